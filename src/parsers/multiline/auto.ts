/**
 * `auto`, the default detector: joins the stack traces of Java (and other JVM languages), Python, Go,
 * Node.js, Ruby and .NET without being told which runtime a container runs, together with the log line
 * that introduces them (`ERROR ... charge failed` followed by the trace is one record).
 *
 * Every line is held until the next one shows whether it continues (or, at the end of the file, until it
 * is clear that it cannot: see `waits`). Most lines are told apart from trace lines by their first and
 * last characters and a scan of their first word, so ordinary logs pay no regular expression; the
 * expressions run only on lines that already look like part of a trace.
 *
 * What joins (states below): an exception line (`pkg.FooException: msg`, `TypeError: msg`,
 * `Exception in thread "main" ...`, `Unhandled exception. System.X: msg`) and its indented `at` frames,
 * `Caused by:` / `Suppressed:` / `... N more`, .NET's ` ---> ` inner exceptions and `--- End of ... ---`,
 * Node's `{ code: ... }` property block and `Node.js v20` trailer and its uncaught-exception header
 * (`/app/x.js:4`, source, caret); Python's `Traceback (most recent call last):` through the exception
 * line and chained tracebacks; Go's `panic:` / `fatal error:` / `SIGQUIT:` / `goroutine N [...]:` dumps
 * with blank lines between goroutines; Ruby's `file.rb:12:in 'm': msg (Class)` and its `from` frames, or
 * Logger's `msg (Class)` followed by bare `file.rb:12:in 'm'` lines; ASP.NET Core's `fail: Cat[0]` entries
 * whose lines are indented. An introducing line is one that mentions an error (ERROR, SEVERE, failed,
 * exception, panic, a klog `E1124` header...) and is not a JSON object (joining would break its fields).
 */
import { Verdict, type GroupState, type MultilineRule } from './rule.js';

const { NEW, JOIN, MAYBE } = Verdict;

// Group states. LINE: one line held, not looked at yet (looking costs; most lines never need it).
const LINE = 0;
/** one line that nothing can join */
const PLAIN = 1;
/** one line that may introduce a trace */
const INTRO = 2;
/** an exception line (maybe after an introducing line, then still tentative): frames expected */
const HEADER = 3;
/** `at` frames (JVM, Node.js, .NET) */
const FRAMES = 4;
/** a blank line after frames: Node's `Node.js v20.x` may follow */
const FRAMES_BLANK = 5;
/** Node's `{ code: ..., [cause]: ... }` block after the last frame */
const NODE_PROPS = 6;
const PY_BODY = 7;
const PY_ENDED = 8;
const PY_BLANK = 9;
const PY_CHAINED = 10;
const GO = 11;
const RUBY = 12;
/** Node's uncaught-exception header: `/app/x.js:4`, then the source line, a caret line, a blank line */
const NODE_LOCATION = 13;
const NODE_SOURCE = 14;
const NODE_CARET = 15;
const NODE_BLANK = 16;
/** ASP.NET Core console logger: `fail: Category[EventId]`, then the entry's lines indented */
const MS_LOG = 17;
/** complete (after `Node.js v...`): nothing more joins */
const DONE = 18;

const SPACE = 32;
const TAB = 9;
const BRACE = 123;
const QUOTE = 39;
const BACKTICK = 96;
const PAREN_CLOSE = 41;

function isBlankStart(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** Characters of a class name (`java.lang.IllegalStateException`, `invoices.errors.RenderError`). */
const NAME_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  NAME_CHAR[c] = /[A-Za-z0-9_$.]/.test(ch) ? 1 : 0;
}

/** Length of the class-name-like word at the start of `line` (0 if it starts with something else). */
function nameLength(line: string): number {
  const n = line.length;
  let i = 0;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c >= 128 || NAME_CHAR[c] === 0) break;
    i++;
  }
  return i;
}

const NAME_SUFFIXES = ['Exception', 'Error', 'Throwable', 'Exit', 'Interrupt', 'Fault', 'Panic'];

/**
 * `pkg.FooException: msg`, `TypeError: msg`, `java.lang.NullPointerException`, `Error [ERR_X]: msg`: a
 * word that reads like an exception class, then `:` or the end of the line.
 */
function isExceptionLine(line: string): boolean {
  const c = line.charCodeAt(0);
  // a class name starts with a letter (a timestamp or a number does not)
  if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return false;
  const end = nameLength(line);
  if (end < line.length) {
    const stop = line.charCodeAt(end);
    if (stop !== 58 && !(stop === SPACE && line.charCodeAt(end + 1) === 91)) return false; // ':' or ' ['
  }
  for (let i = 0; i < NAME_SUFFIXES.length; i++) {
    const suffix = NAME_SUFFIXES[i];
    if (line.startsWith(suffix, end - suffix.length)) return true;
  }
  // a qualified name whose last part is a class: `com.example.PaymentDeclined: ...`
  const dot = line.lastIndexOf('.', end - 1);
  if (dot <= 0 || dot === end - 1) return false;
  const first = line.charCodeAt(dot + 1);
  return first >= 65 && first <= 90;
}

const GO_SIGNAL = /^SIG[A-Z]+: /;

/** A line that can only begin a trace: the state it begins, or LINE if it is none of them. */
function traceStart(line: string): number {
  switch (line.charCodeAt(0)) {
    case 84: // T
      return line.startsWith('Traceback (most recent call last):') ? PY_BODY : LINE;
    case 112: // p
      return line.startsWith('panic: ') ? GO : LINE;
    case 102: // f
      return line.startsWith('fatal error: ') ? GO : LINE;
    case 103: // g
      return line.startsWith('goroutine ') && line.charCodeAt(line.length - 1) === 58 ? GO : LINE;
    case 83: // S
      return GO_SIGNAL.test(line) ? GO : LINE;
    case 69: // E
      return line.startsWith('Exception in thread ') ? HEADER : LINE;
    case 85: // U
      return line.startsWith('Unhandled exception. ') || line.startsWith('Unhandled Exception: ') ? HEADER : LINE;
    default:
      return LINE;
  }
}

/**
 * `  at pkg.C.m(C.java:12) ~[app.jar:1.0]`, `    at fn (/app/x.js:1:2)`, `    at /app/x.js:1:2 {` (Node,
 * a property block follows), `   at NS.C.M() in /src/C.cs:line 42`
 */
const AT_FRAME = /^\s+at\s.*(?:\)|\]|:\d+|:line \d+)(?: \{)?$/;
/** `/app/lib/pay.rb:42:in 'charge'`, `\tfrom bin/worker:5:in '<main>'` */
const RUBY_FRAME = /^\s*(?:from\s+)?\S+:\d+:in [`']/;
/** Ruby's uncaught exception: `/app/lib/pay.rb:42:in 'charge': card declined (Payments::CardError)` */
const RUBY_HEADER = /^\S+:\d+:in [`'].*\)$/;
const NODE_LOCATION_LINE = /^(?:\/|file:\/\/|node:|[A-Za-z]:\\)\S*:\d+$/;
const NODE_CARET_LINE = /^\s*\^+\s*$/;
const MS_LOG_HEADER = /^(?:trce|dbug|info|warn|fail|crit): \S+\[\d+\]$/;
/** Go: `main.(*Pool).dispatch(0xc000...)`, `panic({0x4a0f20?, ...})`, register dumps, elided frames */
const GO_FRAME =
  /^(?:[\w.\-/*()[\]{}]+\(.*\)(?: \+0x[0-9a-f]+)?|\.\.\.\d* ?additional frames elided\.\.\.|PC=0x[0-9a-f]+.*|[a-z][a-z0-9]{1,3} +0x[0-9a-f]+|exit status \d+)$/;
/**
 * A line that introduces a trace: it names an error. Runs only when a trace line follows the line, or
 * when an idle stream's last line is about to be released.
 */
const INTRO_LINE =
  /\b(?:ERROR|ERR|SEVERE|FATAL|CRITICAL|CRIT|ALERT|EMERG|PANIC|WARN|WARNING|[Ee]rror|[Ee]xception|[Ff]atal|[Cc]ritical|[Ww]arn(?:ing)?|[Ff]ail(?:ed|ure)?|[Pp]anic(?:ked)?|[Uu]nhandled|[Uu]ncaught|[Cc]rash(?:ed)?|[Tt]raceback)\b|^[EFW]\d{4} |^[EFW], \[/;

function isIntro(line: string): boolean {
  return line.length > 0 && line.charCodeAt(0) !== BRACE && !isBlankStart(line.charCodeAt(0)) && INTRO_LINE.test(line);
}

function endsQuoted(line: string): boolean {
  const last = line.charCodeAt(line.length - 1);
  return last === QUOTE || last === BACKTICK;
}

function isRubyHeader(line: string): boolean {
  return line.charCodeAt(line.length - 1) === PAREN_CLOSE && RUBY_HEADER.test(line);
}

/** What the first line of a group is, when a later line needs to know. */
function classify(first: string): number {
  const c = first.charCodeAt(0);
  if (first.length === 0 || c === BRACE || isBlankStart(c)) return PLAIN;
  const start = traceStart(first);
  if (start !== LINE) return start;
  if (isExceptionLine(first)) return HEADER;
  if (isRubyHeader(first)) return RUBY;
  if ((c === 47 || c === 102 || c === 110 || first.charCodeAt(1) === 58) && NODE_LOCATION_LINE.test(first)) return NODE_LOCATION;
  if (first.charCodeAt(first.length - 1) === 93 && MS_LOG_HEADER.test(first)) return MS_LOG;
  return isIntro(first) ? INTRO : PLAIN;
}

/**
 * Cheap test that `line`, after a one-line group starting with `first`, is plainly a record of its own:
 * not blank or indented, no trace shape, and `first` is no bare trace start that unindented lines follow
 * (a Go dump's function lines, the source line under Node's `/app/x.js:4`).
 */
function plainlyNew(line: string, first: string): boolean {
  if (line.length === 0) return false;
  const c = line.charCodeAt(0);
  if (c === BRACE) return true;
  if (isBlankStart(c)) return false;
  if (traceStart(line) !== LINE || isExceptionLine(line)) return false;
  if (c === 67 && line.startsWith('Caused by: ')) return false;
  if (endsQuoted(line) ? RUBY_FRAME.test(line) : isRubyHeader(line)) return false;
  switch (first.charCodeAt(0)) {
    case 103: // g: goroutine N [...]:
    case 83: // S: SIGQUIT: quit
    case 47: // /app/x.js:4
    case 102: // file:///app/x.js:4
    case 110: // node:internal/...:4
      return traceStart(first) === LINE && !NODE_LOCATION_LINE.test(first);
    default:
      return true;
  }
}

function isFrame(line: string): boolean {
  return AT_FRAME.test(line);
}

/** Java's non-indented continuation lines. */
function isJavaCause(line: string): boolean {
  return line.startsWith('Caused by: ') || line.startsWith('Wrapped by: ');
}

/** Python's last traceback line: `TypeError: ...`, `pkg.errors.RenderError: x`, `KeyboardInterrupt`. */
function isPythonException(line: string): boolean {
  const c = line.charCodeAt(0);
  if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95)) return false;
  const end = nameLength(line);
  return end === line.length || line.charCodeAt(end) === 58;
}

function isChainLine(line: string): boolean {
  return line.startsWith('During handling of the above exception') || line.startsWith('The above exception was the direct cause');
}

/** The state a trace line begins after an introducing line, with its verdict; NEW if it begins none. */
function afterIntro(line: string, group: GroupState): Verdict {
  const start = traceStart(line);
  if (start !== LINE) {
    group.state = start; // unambiguous: `Traceback ...`, `panic: ...`, `Exception in thread ...`
    return JOIN;
  }
  const c = line.charCodeAt(0);
  if (isBlankStart(c)) {
    if (isFrame(line)) {
      // the exception is on the introducing line (`... failed: java.io.IOException: x`)
      group.state = line.charCodeAt(line.length - 1) === BRACE ? NODE_PROPS : FRAMES;
      return JOIN;
    }
    return NEW;
  }
  if (isExceptionLine(line)) {
    group.state = HEADER; // only with frames after it
    return MAYBE;
  }
  if (isRubyHeader(line)) {
    group.state = RUBY;
    return MAYBE;
  }
  if (endsQuoted(line) && RUBY_FRAME.test(line)) {
    group.state = RUBY; // Logger: `msg (Class)` then bare backtrace lines
    return JOIN;
  }
  return NEW;
}

function continues(line: string, group: GroupState): Verdict {
  let state = group.state;
  if (state === LINE) {
    if (plainlyNew(line, group.firstLine)) return NEW;
    state = group.state = classify(group.firstLine);
  }
  const empty = line.length === 0;
  const indented = !empty && isBlankStart(line.charCodeAt(0));
  switch (state) {
    case PLAIN:
    case DONE:
      return NEW;
    case INTRO:
      return empty ? NEW : afterIntro(line, group);
    case HEADER:
      if (indented) {
        if (isFrame(line)) {
          group.state = line.charCodeAt(line.length - 1) === BRACE ? NODE_PROPS : FRAMES;
          return JOIN;
        }
        if (RUBY_FRAME.test(line)) {
          group.state = RUBY;
          return JOIN;
        }
        return line.trimStart().startsWith('---> ') ? JOIN : NEW; // .NET inner exception
      }
      return !empty && isJavaCause(line) ? JOIN : NEW;
    case FRAMES:
      if (empty) {
        group.state = FRAMES_BLANK;
        return MAYBE;
      }
      // frames, `... 3 more`, `Suppressed:`, .NET's `--- End of ... ---`, a Node `[cause]`
      if (indented) {
        if (line.charCodeAt(line.length - 1) === BRACE && isFrame(line)) group.state = NODE_PROPS;
        return JOIN;
      }
      return isJavaCause(line) || line.startsWith('--- End of ') ? JOIN : NEW; // .NET prints that one unindented
    case FRAMES_BLANK:
      if (line.startsWith('Node.js v')) {
        group.state = DONE;
        return JOIN;
      }
      return NEW;
    case NODE_PROPS:
      if (line === '}') {
        group.state = FRAMES;
        return JOIN;
      }
      return indented ? JOIN : NEW;
    case PY_BODY:
      if (empty) return NEW;
      if (indented) return JOIN;
      if (!isPythonException(line)) return NEW;
      group.state = PY_ENDED; // the exception line closes the traceback
      return JOIN;
    case PY_ENDED:
      if (empty) {
        group.state = PY_BLANK;
        return MAYBE;
      }
      if (!isChainLine(line)) return NEW;
      group.state = PY_CHAINED;
      return JOIN;
    case PY_BLANK:
      if (!isChainLine(line)) return NEW;
      group.state = PY_CHAINED;
      return JOIN;
    case PY_CHAINED: // a blank line, then the next traceback
      if (empty) return JOIN;
      if (!line.startsWith('Traceback (most recent call last):')) return NEW;
      group.state = PY_BODY;
      return JOIN;
    case GO:
      if (empty) return MAYBE; // between goroutines, or the end of the dump
      if (indented) return JOIN;
      // (a `panic:` at the start of a line after the dump is the next crash: re-panics are indented)
      if (line.startsWith('goroutine ') || line.startsWith('created by ') || line.startsWith('[signal ')) return JOIN;
      return GO_FRAME.test(line) ? JOIN : NEW;
    case RUBY:
      if (indented) return JOIN;
      return !empty && endsQuoted(line) && RUBY_FRAME.test(line) ? JOIN : NEW;
    case NODE_LOCATION:
      if (empty) return NEW;
      group.state = NODE_SOURCE; // joined only if the caret line follows
      return MAYBE;
    case NODE_SOURCE:
      if (!NODE_CARET_LINE.test(line)) return NEW;
      group.state = NODE_CARET;
      return JOIN;
    case NODE_CARET:
      if (!empty) return NEW;
      group.state = NODE_BLANK;
      return JOIN;
    case NODE_BLANK:
      if (empty) return NEW;
      group.state = HEADER; // `Error: missing DATABASE_URL`
      return JOIN;
    case MS_LOG:
      return indented ? JOIN : NEW;
    default:
      return NEW;
  }
}

export const autoRule: MultilineRule = {
  // JSON objects never begin a group: joined to a trace they would lose their fields
  starts: (line) => line.length > 0 && line.charCodeAt(0) !== BRACE,
  continues,
  waits(group) {
    if (group.lines > 1) return group.state !== DONE;
    const state = group.state === LINE ? classify(group.firstLine) : group.state;
    return state !== PLAIN && state !== DONE;
  },
};
