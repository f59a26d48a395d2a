/**
 * What is inside a message: a JSON object (→ `json.*`, with `log.level` and `message` lifted from it) or
 * logfmt (`key=value ...`). In `auto` mode only text shaped like a JSON object (`{` ... `}`) is parsed,
 * so a plain line costs two character checks.
 */
import { RecordFlag, type LogRecord } from '../event/record.js';
import { normaliseLevel } from './level.js';

export { normaliseLevel };

export type MessageParsing = 'auto' | 'json' | 'logfmt' | 'none';

const LEVEL_KEYS = ['level', 'severity', 'lvl', 'loglevel', 'log.level', 'log_level'];
const MESSAGE_KEYS = ['msg', 'message', 'log'];

/** `log.level` and `message` from the usual keys of a structured message. */
function liftFields(record: LogRecord, object: Record<string, unknown>): void {
  for (let i = 0; i < LEVEL_KEYS.length; i++) {
    const level = normaliseLevel(object[LEVEL_KEYS[i]]);
    if (level !== undefined) {
      record.level = level;
      break;
    }
  }
  for (let i = 0; i < MESSAGE_KEYS.length; i++) {
    const text = object[MESSAGE_KEYS[i]];
    if (typeof text === 'string') {
      record.message = text;
      break;
    }
  }
}

/**
 * A Go-style quoted string at text[i] (`"..."`, as strconv.Quote and logfmt writers produce) → its value
 * and the index after the closing quote. Escapes JSON does not know (`\x1b`) keep their backslash.
 */
export function readQuoted(text: string, i: number): { value: string; end: number } {
  let j = i + 1;
  let escaped = false;
  const n = text.length;
  while (j < n) {
    const c = text.charCodeAt(j);
    if (escaped) escaped = false;
    else if (c === 92) escaped = true;
    else if (c === 34) break;
    j++;
  }
  const quoted = text.slice(i, j + 1);
  let value: string;
  if (quoted.indexOf('\\') < 0) value = quoted.slice(1, j < n ? -1 : undefined);
  else {
    try {
      value = JSON.parse(quoted) as string;
    } catch {
      value = quoted.slice(1, j < n ? -1 : undefined).replace(/\\(["\\])/g, '$1');
    }
  }
  return { value, end: Math.min(j + 1, n) };
}

/** logfmt: `level=info msg="hello world" n=3` → object of strings; undefined when the text does not start with a pair. */
export function parseLogfmt(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  let i = 0;
  let pairs = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && text.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n && text.charCodeAt(i) !== 61 && text.charCodeAt(i) !== 32 && text.charCodeAt(i) !== 34) i++;
    const key = text.slice(keyStart, i);
    if (i >= n || text.charCodeAt(i) !== 61 || key.length === 0) return pairs > 0 ? out : undefined;
    i++;
    let value: string;
    if (text.charCodeAt(i) === 34) {
      const quoted = readQuoted(text, i);
      value = quoted.value;
      i = quoted.end;
    } else {
      const valueStart = i;
      while (i < n && text.charCodeAt(i) !== 32) i++;
      value = text.slice(valueStart, i);
    }
    out[key] = value;
    pairs++;
  }
  return pairs > 0 ? out : undefined;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

/** Apply the configured message parsing to a finished record (after partial and multiline joining). */
export function parseMessage(record: LogRecord, mode: MessageParsing): void {
  const text = record.message;
  if (mode === 'auto') {
    // Only text that is a JSON object by its first and last characters: everything else costs two checks.
    let first = 0;
    const c = text.charCodeAt(0);
    if (c !== 123) {
      if (!isSpace(c)) return;
      while (first < text.length && isSpace(text.charCodeAt(first))) first++;
      if (text.charCodeAt(first) !== 123) return;
    }
    let last = text.length - 1;
    while (last > first && isSpace(text.charCodeAt(last))) last--;
    if (text.charCodeAt(last) !== 125) return;
    parseJsonMessage(record, text);
  } else if (mode === 'json') {
    parseJsonMessage(record, text);
  } else if (mode === 'logfmt') {
    const fields = parseLogfmt(text);
    if (fields !== undefined) {
      record.json = fields;
      liftFields(record, fields);
    }
  }
}

function parseJsonMessage(record: LogRecord, text: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    record.flags |= RecordFlag.JSON_ERROR;
    return;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    record.flags |= RecordFlag.JSON_ERROR;
    return;
  }
  record.json = parsed as Record<string, unknown>;
  liftFields(record, parsed as Record<string, unknown>);
}
