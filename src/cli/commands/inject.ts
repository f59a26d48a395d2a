import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { checkElasticsearchFlags } from './manifests.js';

interface InjectFlags {
  file: string;
  path: string[];
  esHost?: string;
  esPort: string;
  esScheme?: string;
  esSecret?: string;
  image?: string;
  container?: string;
  classicSidecar?: boolean;
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
    .option('--es-scheme <scheme>', 'http or https; default https with --es-secret, else http')
    .option('--es-secret <name>', 'Secret whose keys become env: ELASTICSEARCH_HOSTS and/or credentials')
    .option('--image <image>', 'logferry image')
    .option('--container <name>', 'the application container that writes the files (default: the first)')
    .option('--classic-sidecar', 'add the sidecar to containers[] instead of as a native sidecar (Kubernetes before 1.29; not for Jobs)')
    .action(async (flags: InjectFlags) => {
      if (flags.esHost === undefined && flags.esSecret === undefined) {
        throw new UsageError(
          '--es-host: where is Elasticsearch? Give --es-host HOST [--es-port PORT], or --es-secret NAME for a Secret holding ELASTICSEARCH_HOSTS (and credentials)',
        );
      }
      const port = checkElasticsearchFlags(flags);
      if (flags.image !== undefined && !/^\S+$/.test(flags.image))
        throw new UsageError(`--image: an image reference without spaces (got ${JSON.stringify(flags.image)})`);
      const { inject } = await import('../../deploy/inject.js');
      const text = await readInput(flags.file);
      process.stdout.write(
        inject(text, {
          paths: flags.path
            .flatMap((p) => p.split(','))
            .map((p) => p.trim())
            .filter(Boolean),
          image: flags.image,
          esHost: flags.esHost,
          esPort: port,
          esScheme: flags.esScheme as 'http' | 'https' | undefined,
          esSecret: flags.esSecret,
          container: flags.container,
          classicSidecar: flags.classicSidecar,
        }),
      );
    });
}
