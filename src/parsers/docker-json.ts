/**
 * Docker's json-file log driver, one JSON object per piece:
 *   `{"log":"text\n","stream":"stdout","time":"2026-11-24T10:00:00.123456789Z"}`
 * (possibly with `"attrs":{...}` when the daemon is configured to add labels). A `log` that does not end
 * in a newline is a piece of a longer line (docker splits at 16 KiB); the next pieces of the same stream
 * follow until one ends with the newline.
 *
 * The driver always writes the keys in this order, so the common line is read by index search and only
 * the `log` string goes through JSON.parse, and only when it has escapes besides its final `\n`;
 * anything unusual falls back to parsing the whole line.
 */
import { RecordFlag, type Stream } from '../event/record.js';
import { toUtcTimestamp } from './time.js';

export interface DockerLine {
  timestamp: string;
  stream: Stream;
  partial: boolean;
  text: string;
  flags: number;
}

export function newDockerLine(): DockerLine {
  return { timestamp: '', stream: 'stdout', partial: false, text: '', flags: 0 };
}

const LOG_PREFIX = '{"log":"';
const STREAM_KEY = '"stream":"';
const TIME_KEY = '"time":"';

/** Index of the quote closing the JSON string that starts before `from`, or -1. */
function closingQuote(line: string, from: number): number {
  let q = line.indexOf('"', from);
  while (q > 0) {
    let slashes = 0;
    while (line.charCodeAt(q - 1 - slashes) === 92) slashes++;
    if ((slashes & 1) === 0) return q;
    q = line.indexOf('"', q + 1);
  }
  return -1;
}

/** Parse one already decoded line into `out`; false when it is not a docker json-file line. */
export function parseDockerLine(line: string, out: DockerLine): boolean {
  if (!line.startsWith(LOG_PREFIX)) return parseDockerObject(line, out);
  const q = closingQuote(line, LOG_PREFIX.length);
  if (q < 0) return false;
  const raw = line.slice(LOG_PREFIX.length, q);
  let text: string;
  const slash = raw.indexOf('\\');
  if (slash < 0) {
    text = raw;
    out.partial = true;
  } else if (slash === raw.length - 2 && raw.charCodeAt(slash + 1) === 110) {
    text = raw.slice(0, slash);
    out.partial = false;
  } else {
    let decoded: unknown;
    try {
      decoded = JSON.parse(line.slice(LOG_PREFIX.length - 1, q + 1));
    } catch {
      return false;
    }
    if (!setText(decoded, out)) return false;
    text = out.text;
  }
  // `,"stream":"stdout","time":"..."}` (attrs, when present, anywhere after the log)
  let stream: Stream = 'stdout';
  const s = line.indexOf(STREAM_KEY, q);
  if (s > 0) {
    const v = s + STREAM_KEY.length;
    if (line.startsWith('stderr"', v)) stream = 'stderr';
    else if (!line.startsWith('stdout"', v)) return parseDockerObject(line, out);
  }
  const t = line.indexOf(TIME_KEY, q);
  if (t < 0 || line.charCodeAt(line.length - 1) !== 125) return parseDockerObject(line, out);
  const timeStart = t + TIME_KEY.length;
  const timeEnd = line.indexOf('"', timeStart);
  const timestamp = timeEnd < 0 ? undefined : toUtcTimestamp(line.slice(timeStart, timeEnd));
  if (timestamp === undefined) return parseDockerObject(line, out);
  out.timestamp = timestamp;
  out.stream = stream;
  out.text = text;
  out.flags = 0;
  if (slash >= 0 && text.includes('\0')) {
    out.text = text.replaceAll('\0', '');
    out.flags = RecordFlag.NUL_REMOVED;
  }
  return true;
}

/** `log` value → text without its final newline (`\r\n` or `\n`), and whether it was a partial piece. */
function setText(value: unknown, out: DockerLine): boolean {
  if (typeof value !== 'string') return false;
  const n = value.length;
  if (n > 0 && value.charCodeAt(n - 1) === 10) {
    out.partial = false;
    out.text = value.slice(0, n > 1 && value.charCodeAt(n - 2) === 13 ? n - 2 : n - 1);
  } else {
    out.partial = true;
    out.text = value;
  }
  return true;
}

/** The general case: the whole line through JSON.parse (other key orders, whitespace, escapes anywhere). */
function parseDockerObject(line: string, out: DockerLine): boolean {
  if (line.charCodeAt(0) !== 123) return false;
  let parsed: { log?: unknown; stream?: unknown; time?: unknown };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    return false;
  }
  if (parsed === null || typeof parsed !== 'object' || typeof parsed.time !== 'string') return false;
  const timestamp = toUtcTimestamp(parsed.time);
  if (timestamp === undefined || !setText(parsed.log, out)) return false;
  if (parsed.stream !== undefined && parsed.stream !== 'stdout' && parsed.stream !== 'stderr') return false;
  out.timestamp = timestamp;
  out.stream = parsed.stream === 'stderr' ? 'stderr' : 'stdout';
  out.flags = 0;
  if (out.text.includes('\0')) {
    out.text = out.text.replaceAll('\0', '');
    out.flags = RecordFlag.NUL_REMOVED;
  }
  return true;
}
