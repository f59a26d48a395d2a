/**
 * The `logferry` command line. Each command lives in its own module and registers itself here.
 * Exit codes: 0 ok; 2 bad configuration or usage; 1 runtime failure.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export type CommandRegistrar = (program: Command) => void;

async function loadCommands(): Promise<CommandRegistrar[]> {
  // Loaded lazily so `logferry --version` does not pay for every command's imports.
  const modules = await Promise.all([
    import('./commands/validate.js'),
    import('./commands/run.js'),
    import('./commands/demo.js'),
    import('./commands/search.js'),
    import('./commands/tail.js'),
    import('./commands/manifests.js'),
    import('./commands/inject.js'),
  ]);
  return modules.map((m) => m.register);
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('logferry')
    .description('Collect Kubernetes logs and ship them exactly once to Elasticsearch or an embedded local store.')
    .version(pkg.version, '-V, --version')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  for (const register of await loadCommands()) register(program);
  program.commands.forEach((c) => c.exitOverride());
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      return 2;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`logferry: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`logferry: ${errorLine(error)}\n`);
    return 1;
  }
}

/**
 * An error no command turned into a UsageError, as the user sees it: its message, one line per line of
 * the message. The stack is for developers: only at debug level (LOGFERRY_LOG_LEVEL=debug or trace).
 */
export function errorLine(error: unknown, level = process.env.LOGFERRY_LOG_LEVEL): string {
  const message = error instanceof Error ? error.message.trim() || error.name : String(error);
  if ((level === 'debug' || level === 'trace') && error instanceof Error && error.stack !== undefined) return error.stack;
  return message;
}

export const version = pkg.version;
