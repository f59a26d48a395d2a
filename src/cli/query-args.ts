/**
 * Query words on the command line next to kubectl-style short options. `logferry search payment -level:info`
 * must not become `-l evel:info` (a label selector), nor `-connection` become `-c onnection` (a container):
 * an exclusion that looks like an option is handed to the query as `NOT word` before commander reads the
 * options, and one that could really be either is an error naming both readings (never a silent guess).
 * `NOT word` and everything after `--` are always query text.
 */
import type { Command, Option } from 'commander';
import { isFieldName } from '../query/query-text.js';
import { UsageError } from './errors.js';

/** Attached values (`-ojson`, `-lapp=web`) that can only be the option's, by its long name. */
const ATTACHED_VALUE: Record<string, (value: string) => boolean> = {
  '--output': (value) => value === 'json' || value === 'text',
  '--selector': (value) => /[=!,(]/.test(value),
};

function findOption(command: Command, arg: string): Option | undefined {
  return command.options.find((o) => o.short === arg || o.long === arg || (o.long !== undefined && arg.startsWith(o.long + '=')));
}

/** The arguments with option-like exclusions rewritten as `NOT ...` (one argument each). */
export function protectExclusions(command: Command, argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const option = findOption(command, arg);
    if (option !== undefined) {
      out.push(arg);
      // its value may start with a dash (`--tail -1`, `--since -5m` is then the option's own error)
      if (option.required && !arg.includes('=') && i + 1 < argv.length) out.push(argv[++i]);
      continue;
    }
    if (arg.length < 2 || arg[0] !== '-' || arg[1] === '-' || arg === '-h') {
      out.push(arg);
      continue;
    }
    const rest = arg.slice(1);
    const colon = rest.indexOf(':');
    const short = findOption(command, `-${rest[0]}`);
    if (rest[0] === '"' || rest[0] === '(' || (colon > 0 && isFieldName(rest.slice(0, colon))) || short === undefined) {
      out.push(`NOT ${rest}`);
      continue;
    }
    const value = rest.slice(1);
    if (short.required && short.long !== undefined && ATTACHED_VALUE[short.long]?.(value)) {
      out.push(arg);
      continue;
    }
    const asOption = short.required ? `${short.short} ${value} (${short.long})` : `${short.short} (${short.long}) followed by more`;
    throw new UsageError(
      `${arg} could be ${asOption} or the exclusion of "${rest}": write ${short.required ? `${short.short} ${value}` : 'the options apart'}, or NOT ${rest} (or put the query after --)`,
    );
  }
  return out;
}

/** Make a command read option-like exclusions as query text (see {@link protectExclusions}). */
export function readExclusionsAsQuery(command: Command): Command {
  const parse = command.parseOptions.bind(command);
  command.parseOptions = (argv: string[]) => parse(protectExclusions(command, argv));
  return command;
}
