/**
 * Multiline options (config keys, the `logferry.io/multiline` annotation) compiled into a rule and bounds.
 * Built-in detectors live in ./builtin.ts; custom `start` / `continue` expressions are compiled here.
 */
import { BUILTIN_RULES, type BuiltinMultiline } from './builtin.js';
import { Verdict, type MultilineRule } from './rule.js';

export type { BuiltinMultiline };

/** Built-in names, as config validation and the pod annotation accept them (`off`: no joining at all). */
export const MULTILINE_NAMES = ['auto', 'java', 'python', 'go', 'nodejs', 'off'] as const;
/**
 * What files get when nothing is configured: stack traces of every runtime joined. glog files are grouped
 * by their headers instead (see the file parser).
 */
export const DEFAULT_MULTILINE: MultilineOptions = 'auto';

export interface CustomMultiline {
  /** a built-in detector to use with the bounds below (instead of start / continue) */
  preset?: BuiltinMultiline;
  /** regular expression matching the first line of a record */
  start?: string;
  /** regular expression matching a line that continues the record before it */
  continue?: string;
  /** release a held record when no line came for this long (milliseconds); default 1000 */
  flushTimeoutMs?: number;
  /** most lines in one record (default 1000); more start a new record, both flagged multiline_truncated */
  maxLines?: number;
  /** most bytes in one record (default: the parser's maxRecordBytes, 1 MiB) */
  maxBytes?: number;
}

/**
 * A built-in name (`auto`, `java`, `python`, `go`, `nodejs`), `off` (`none` is taken too), a regular
 * expression for a record's first line (the `logferry.io/multiline` annotation form), or the object form.
 */
export type MultilineOptions = BuiltinMultiline | 'off' | (string & {}) | CustomMultiline;

export interface MultilineLimits {
  flushTimeoutMs: number;
  maxLines: number;
  maxBytes: number;
}

export class MultilineConfigError extends Error {
  override readonly name = 'MultilineConfigError';
}

const DEFAULT_FLUSH_MS = 1000;
const DEFAULT_MAX_LINES = 1000;

function compile(source: string, what: string): RegExp {
  try {
    return new RegExp(source);
  } catch (error) {
    throw new MultilineConfigError(`multiline.${what}: ${JSON.stringify(source)} is not a valid regular expression (${(error as Error).message})`);
  }
}

function isBuiltin(name: string): name is BuiltinMultiline {
  return Object.prototype.hasOwnProperty.call(BUILTIN_RULES, name);
}

/** A record starts at every line matching `start`; the lines between join it. */
function startRule(start: RegExp): MultilineRule {
  return {
    starts: () => true,
    continues: (line) => (start.test(line) ? Verdict.NEW : Verdict.JOIN),
  };
}

/** Lines matching `continue` join the record before them; with `start` too, only a group begun by it. */
function continueRule(cont: RegExp, start: RegExp | undefined): MultilineRule {
  if (start === undefined) {
    return { starts: () => true, continues: (line) => (cont.test(line) ? Verdict.JOIN : Verdict.NEW) };
  }
  return {
    starts: (line) => start.test(line),
    continues: (line) => (!start.test(line) && cont.test(line) ? Verdict.JOIN : Verdict.NEW),
  };
}

/** `off` / `none`: lines are records of their own (no rule, no group, nothing held). */
export function multilineOff(options: MultilineOptions | undefined): boolean {
  if (typeof options !== 'string') return false;
  const name = options.trim().toLowerCase();
  return name === 'off' || name === 'none';
}

const NEVER: MultilineRule = { starts: () => false, continues: () => Verdict.NEW };

/** Compile options into a rule. Throws {@link MultilineConfigError} with the key and value at fault. */
export function multilineRule(options: MultilineOptions): MultilineRule {
  if (typeof options === 'string') {
    const name = options.trim().toLowerCase();
    if (isBuiltin(name)) return BUILTIN_RULES[name];
    if (multilineOff(name)) return NEVER;
    // the annotation's non-preset form: an expression for a record's first line
    return startRule(compile(options, 'start'));
  }
  if (options.preset !== undefined) {
    if (!isBuiltin(options.preset))
      throw new MultilineConfigError(`multiline.preset: expected auto, java, python, go or nodejs, got ${JSON.stringify(options.preset)}`);
    if (options.start !== undefined || options.continue !== undefined)
      throw new MultilineConfigError('multiline: give either `preset` or `start` / `continue`, not both');
    return BUILTIN_RULES[options.preset];
  }
  const start = options.start !== undefined ? compile(options.start, 'start') : undefined;
  const cont = options.continue !== undefined ? compile(options.continue, 'continue') : undefined;
  if (cont !== undefined) return continueRule(cont, start);
  if (start !== undefined) return startRule(start);
  throw new MultilineConfigError('multiline: give `start`, `continue` or `preset` (auto, java, python, go, nodejs)');
}

export function multilineLimits(options: MultilineOptions | undefined, maxRecordBytes: number): MultilineLimits {
  const custom = typeof options === 'object' ? options : {};
  const positive = (value: number | undefined, key: string, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || value <= 0) throw new MultilineConfigError(`multiline.${key}: expected a positive number, got ${value}`);
    return value;
  };
  return {
    flushTimeoutMs: positive(custom.flushTimeoutMs, 'flushTimeoutMs', DEFAULT_FLUSH_MS),
    maxLines: positive(custom.maxLines, 'maxLines', DEFAULT_MAX_LINES),
    maxBytes: positive(custom.maxBytes, 'maxBytes', maxRecordBytes),
  };
}

/** The problem with these options as a message naming the key, or undefined when they are fine (for config validation). */
export function multilineProblem(options: MultilineOptions): string | undefined {
  try {
    multilineRule(options);
    multilineLimits(options, 1);
    return undefined;
  } catch (error) {
    if (error instanceof MultilineConfigError) return error.message;
    throw error;
  }
}
