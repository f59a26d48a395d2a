/**
 * When does a line continue the record before it? Built-in rules for the stack traces people actually
 * see in container logs, and custom `start` / `continue` expressions.
 */
export type BuiltinMultiline = 'java' | 'python' | 'go' | 'nodejs';

export interface CustomMultiline {
  start?: string;
  continue?: string;
  flushTimeoutMs?: number;
  maxLines?: number;
  maxBytes?: number;
}

/** A built-in name, a regular expression for a record's first line (annotation form), or start/continue rules. */
export type MultilineOptions = BuiltinMultiline | (string & {}) | CustomMultiline;

/** Per-group state a rule may keep (e.g. "inside a Python traceback"). */
export interface GroupState {
  firstLine: string;
  lastLine: string;
  lines: number;
}

export interface MultilineRule {
  continues(line: string, group: GroupState): boolean;
}

const JAVA_CONTINUATION = /^\s+at\s|^\s*Caused by:|^\s*Suppressed:|^\s+\.\.\. \d+ (more|common frames omitted)/;
const NODE_CONTINUATION = /^\s+at\s/;
const GO_FUNCTION = /^[\w.\-/*()]+\(.*\)$/;

const java: MultilineRule = {
  continues: (line) => JAVA_CONTINUATION.test(line),
};

const nodejs: MultilineRule = {
  continues: (line, group) => NODE_CONTINUATION.test(line) || (group.lines === 1 && /^\s+\^+\s*$/.test(line)),
};

const python: MultilineRule = {
  continues(line, group) {
    if (!group.firstLine.startsWith('Traceback (most recent call last):')) return false;
    if (line.length === 0) return false;
    const indented = line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9;
    if (indented) return true;
    // The exception line closes the traceback: it follows an indented line and is not indented itself.
    const lastIndented = group.lastLine.charCodeAt(0) === 32 || group.lastLine.charCodeAt(0) === 9;
    return lastIndented;
  },
};

const go: MultilineRule = {
  continues(line, group) {
    const first = group.firstLine;
    if (!first.startsWith('panic:') && !first.startsWith('fatal error:') && !/^goroutine \d+ \[/.test(first)) return false;
    if (line.length === 0) return true;
    const c = line.charCodeAt(0);
    if (c === 9 || c === 32) return true;
    return line.startsWith('goroutine ') || line.startsWith('created by ') || line.startsWith('[signal ') || GO_FUNCTION.test(line);
  },
};

const BUILTIN: Record<BuiltinMultiline, MultilineRule> = { java, python, go, nodejs };

export class MultilineConfigError extends Error {
  override readonly name = 'MultilineConfigError';
}

function compile(source: string, what: string): RegExp {
  try {
    return new RegExp(source);
  } catch (error) {
    throw new MultilineConfigError(`multiline.${what}: not a valid regular expression ${JSON.stringify(source)} (${(error as Error).message})`);
  }
}

export function multilineRule(options: MultilineOptions): MultilineRule {
  if (typeof options === 'string') {
    const rule = BUILTIN[options as BuiltinMultiline];
    if (rule) return rule;
    // An annotation value that is not a built-in name is a start expression.
    const start = compile(options, 'start');
    return { continues: (line) => !start.test(line) };
  }
  const start = options.start !== undefined ? compile(options.start, 'start') : undefined;
  const cont = options.continue !== undefined ? compile(options.continue, 'continue') : undefined;
  if (start === undefined && cont === undefined) throw new MultilineConfigError('multiline: give `start`, `continue`, or a built-in name (java, python, go, nodejs)');
  return {
    continues(line) {
      if (cont !== undefined && cont.test(line)) return true;
      if (start !== undefined) return !start.test(line) && cont === undefined;
      return false;
    },
  };
}

export function multilineLimits(options: MultilineOptions): { flushTimeoutMs: number; maxLines: number; maxBytes: number } {
  const custom = typeof options === 'string' ? {} : options;
  return { flushTimeoutMs: custom.flushTimeoutMs ?? 1000, maxLines: custom.maxLines ?? 500, maxBytes: custom.maxBytes ?? 256 * 1024 };
}
