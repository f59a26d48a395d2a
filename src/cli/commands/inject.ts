import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';

interface InjectFlags {
  file: string;
  path: string[];
  esHost?: string;
  esPort: string;
  esScheme: string;
  esSecret?: string;
  image?: string;
  container?: string;
}

async function readInput(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`-f ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

export function register(program: Command): void {
  program
    .command('inject')
    .description('add the logferry sidecar to workloads in Kubernetes YAML (output on stdout)')
    .requiredOption('-f, --file <file>', 'YAML file, or - for standard input')
    .requiredOption('--path <glob...>', "the application's log files, e.g. /var/log/app/*.log")
    .option('--es-host <host>', 'Elasticsearch host')
    .option('--es-port <port>', 'Elasticsearch port', '9200')
    .option('--es-scheme <scheme>', 'http or https', 'http')
    .option('--es-secret <name>', 'Secret holding the ELASTICSEARCH_* variables (instead of --es-host)')
    .option('--image <image>', 'logferry image')
    .option('--container <name>', 'the application container that writes the files (default: the first)')
    .action(async (flags: InjectFlags) => {
      if (flags.esHost !== undefined && flags.esSecret !== undefined) throw new UsageError('--es-host and --es-secret: give one of them');
      const port = Number(flags.esPort);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--es-port: 1-65535 (got ${JSON.stringify(flags.esPort)})`);
      if (flags.esScheme !== 'http' && flags.esScheme !== 'https') throw new UsageError(`--es-scheme: http or https (got ${JSON.stringify(flags.esScheme)})`);
      const { inject } = await import('../../deploy/inject.js');
      const text = await readInput(flags.file);
      process.stdout.write(
        inject(text, {
          paths: flags.path.flatMap((p) => p.split(',')).map((p) => p.trim()).filter(Boolean),
          image: flags.image,
          esHost: flags.esHost,
          esPort: port,
          esScheme: flags.esScheme,
          esSecret: flags.esSecret,
          container: flags.container,
        }),
      );
    });
}
