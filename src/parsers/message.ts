/**
 * What is inside a message: a JSON object (→ `json.*`, with `log.level` and `message` lifted from it) or
 * logfmt (`key=value ...`). Only messages that look like JSON are parsed, so plain lines cost one check.
 */
import { RecordFlag, type LogRecord } from '../event/record.js';

export type MessageParsing = 'auto' | 'json' | 'logfmt' | 'none';

const LEVEL_KEYS = ['level', 'severity', 'lvl', 'loglevel', 'log.level'];
const MESSAGE_KEYS = ['msg', 'message', 'log'];

const LEVEL_ALIASES: Record<string, string> = {
  warn: 'warning',
  err: 'error',
  crit: 'critical',
  dbg: 'debug',
  eror: 'error',
  inf: 'info',
  wrn: 'warning',
  fatal: 'fatal',
  panic: 'fatal',
};

/** Lower-case level names, with common abbreviations spelled out (`warn` → `warning`). */
export function normaliseLevel(value: unknown): string | undefined {
  if (typeof value === 'number') {
    // pino/bunyan numeric levels
    if (value >= 60) return 'fatal';
    if (value >= 50) return 'error';
    if (value >= 40) return 'warning';
    if (value >= 30) return 'info';
    if (value >= 20) return 'debug';
    return 'trace';
  }
  if (typeof value !== 'string' || value.length === 0 || value.length > 16) return undefined;
  const lower = value.toLowerCase();
  return LEVEL_ALIASES[lower] ?? lower;
}

function liftFields(record: LogRecord, object: Record<string, unknown>): void {
  for (const key of LEVEL_KEYS) {
    const level = normaliseLevel(object[key]);
    if (level !== undefined) {
      record.level = level;
      break;
    }
  }
  for (const key of MESSAGE_KEYS) {
    const text = object[key];
    if (typeof text === 'string') {
      record.message = text;
      break;
    }
  }
}

/** logfmt: `level=info msg="hello world" n=3` → object; undefined when the text is not logfmt. */
export function parseLogfmt(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  let i = 0;
  let pairs = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && text.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n && text.charCodeAt(i) !== 61 && text.charCodeAt(i) !== 32) i++;
    const key = text.slice(keyStart, i);
    if (i >= n || text.charCodeAt(i) !== 61 || key.length === 0) return pairs > 0 ? out : undefined;
    i++;
    let value: string;
    if (text.charCodeAt(i) === 34) {
      let j = i + 1;
      let escaped = false;
      while (j < n && (escaped || text.charCodeAt(j) !== 34)) {
        escaped = !escaped && text.charCodeAt(j) === 92;
        j++;
      }
      const quoted = text.slice(i, j + 1);
      try {
        value = JSON.parse(quoted) as string;
      } catch {
        value = quoted.slice(1, -1);
      }
      i = j + 1;
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

/** Apply the configured message parsing to a finished record (after partial and multiline joining). */
export function parseMessage(record: LogRecord, mode: MessageParsing): void {
  if (mode === 'none') return;
  const text = record.message;
  if (mode === 'logfmt') {
    const fields = parseLogfmt(text);
    if (fields !== undefined) {
      record.json = fields;
      liftFields(record, fields);
    }
    return;
  }
  // 'auto' and 'json': only text that is a JSON object by its first and last character.
  let first = 0;
  while (first < text.length && text.charCodeAt(first) === 32) first++;
  if (text.charCodeAt(first) !== 123) return;
  let last = text.length - 1;
  while (last > first && (text.charCodeAt(last) === 32 || text.charCodeAt(last) === 13)) last--;
  if (text.charCodeAt(last) !== 125) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    record.flags |= RecordFlag.JSON_ERROR;
    return;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return;
  record.json = parsed as Record<string, unknown>;
  liftFields(record, parsed as Record<string, unknown>);
}
