/**
 * Built-in detectors for the stack traces seen in container logs. Each one only joins lines that have
 * the shape of its runtime's trace output, so ordinary lines around a trace stay records of their own.
 * Expressions run only on lines of containers that chose the detector, and most tests are first-character
 * checks before any expression.
 */
import { autoRule } from './auto.js';
import { Verdict, type MultilineRule } from './rule.js';

/** `auto` (./auto.ts, the default) detects every runtime below and Ruby and .NET; the others one runtime each. */
export type BuiltinMultiline = 'auto' | 'java' | 'python' | 'go' | 'nodejs';

const { NEW, JOIN, MAYBE } = Verdict;

function indented(line: string): boolean {
  const c = line.charCodeAt(0);
  return c === 32 || c === 9;
}

/**
 * Java: the line before the frames is the exception (`java.lang.X: msg`, `Exception in thread "main" ...`);
 * frames `\tat ...`, `Caused by: ...`, `Suppressed: ...`, `... 12 more`, `... 3 common frames omitted`.
 */
const JAVA_CONTINUATION = /^(?:\s+at\s|\s*(?:Caused by:|Suppressed:|\.\.\. \d+ (?:more|common frames omitted)))/;

const java: MultilineRule = {
  starts: () => true,
  continues: (line) => (JAVA_CONTINUATION.test(line) ? JOIN : NEW),
};

/**
 * Python: `Traceback (most recent call last):`, indented `File ...` / source lines, then the unindented
 * `XxxError: message`. Chained exceptions follow after a blank line and "During handling of the above
 * exception..." / "The above exception was the direct cause...", each with its own traceback.
 */
const TRACEBACK = 'Traceback (most recent call last):';
const PY_BODY = 0;
const PY_ENDED = 1;
const PY_BLANK_AFTER_END = 2;
const PY_CHAINED = 3;

function isChainLine(line: string): boolean {
  return line.startsWith('During handling of the above exception') || line.startsWith('The above exception was the direct cause');
}

const python: MultilineRule = {
  starts: (line) => line.startsWith(TRACEBACK),
  continues(line, group) {
    switch (group.state) {
      case PY_BODY:
        if (line.length === 0) return NEW;
        if (!indented(line)) group.state = PY_ENDED; // the exception line closes the traceback
        return JOIN;
      case PY_ENDED:
        if (line.length === 0) {
          group.state = PY_BLANK_AFTER_END;
          return MAYBE;
        }
        if (isChainLine(line)) {
          group.state = PY_CHAINED;
          return JOIN;
        }
        return NEW;
      case PY_BLANK_AFTER_END:
        if (isChainLine(line)) {
          group.state = PY_CHAINED;
          return JOIN;
        }
        return NEW;
      default: // PY_CHAINED: a blank line, then the next traceback
        if (line.length === 0) return JOIN;
        if (line.startsWith(TRACEBACK)) {
          group.state = PY_BODY;
          return JOIN;
        }
        return NEW;
    }
  },
};

/**
 * Go: `panic: ...` / `fatal error: ...` / a goroutine dump (`goroutine 1 [running]:`, SIGQUIT), then
 * blank lines between goroutines, function lines `pkg.(*T).M(0xc000...)`, tab-indented `file.go:12 +0x1d`
 * lines, `created by ...`, register dumps.
 */
const GO_START = /^(?:panic: |fatal error: |goroutine \d+ \[|SIG[A-Z]+: |runtime: |unexpected fault address )/;
const GO_FRAME = /^(?:[\w.\-/*()[\]{}]+\(.*\)(?: \+0x[0-9a-f]+)?|\.\.\.\d* ?additional frames elided\.\.\.|PC=0x[0-9a-f]+.*|[a-z][a-z0-9]{1,3} +0x[0-9a-f]+)$/;

const go: MultilineRule = {
  starts: (line) => GO_START.test(line),
  continues(line) {
    if (line.length === 0) return MAYBE; // between goroutines, or the end of the dump
    if (indented(line)) return JOIN;
    if (line.startsWith('goroutine ') || line.startsWith('created by ') || line.startsWith('[signal ') || line.startsWith('panic: ')) return JOIN;
    return GO_FRAME.test(line) ? JOIN : NEW;
  },
};

/**
 * Node.js: an error line then `    at ...` frames, an optional `{ code: ... }` block of properties after the
 * last frame, and for uncaught exceptions the header Node prints first (`/app/x.js:12`, the source line,
 * a caret line, a blank line) and the trailing `Node.js v20.x.y` after a blank line.
 */
const NODE_FRAME = /^\s+at\s/;
const NODE_LOCATION = /^(?:\/|file:\/\/|node:|[A-Za-z]:\\)\S*:\d+$/;
const NODE_CARET = /^\s*\^+\s*$/;
const NODE_INITIAL = 0;
const NODE_FRAMES = 1;
const NODE_PROPS = 2;
const NODE_BLANK_AFTER = 3;
const NODE_HEADER_SOURCE = 10;
const NODE_HEADER_CARET = 11;
const NODE_HEADER_BLANK = 12;
const NODE_HEADER_ERROR = 13;

const nodejs: MultilineRule = {
  starts: () => true,
  continues(line, group) {
    const state = group.state;
    if (state === NODE_PROPS) {
      if (line === '}') group.state = NODE_FRAMES;
      return JOIN;
    }
    if (NODE_FRAME.test(line)) {
      group.state = line.endsWith(' {') ? NODE_PROPS : NODE_FRAMES;
      return JOIN;
    }
    switch (state) {
      case NODE_INITIAL:
        if (group.lines === 1 && NODE_LOCATION.test(group.firstLine)) {
          group.state = NODE_HEADER_SOURCE;
          return JOIN; // the source line
        }
        return NEW;
      case NODE_HEADER_SOURCE:
        if (!NODE_CARET.test(line)) return NEW;
        group.state = NODE_HEADER_CARET;
        return JOIN;
      case NODE_HEADER_CARET:
        if (line.length !== 0) return NEW;
        group.state = NODE_HEADER_BLANK;
        return JOIN;
      case NODE_HEADER_BLANK:
        if (line.length === 0) return NEW;
        group.state = NODE_HEADER_ERROR; // `TypeError: ...`
        return JOIN;
      case NODE_FRAMES:
        if (line.length !== 0) return NEW;
        group.state = NODE_BLANK_AFTER;
        return MAYBE;
      case NODE_BLANK_AFTER:
        return line.startsWith('Node.js v') ? JOIN : NEW;
      default:
        return NEW;
    }
  },
};

export const BUILTIN_RULES: Readonly<Record<BuiltinMultiline, MultilineRule>> = { auto: autoRule, java, python, go, nodejs };
