/**
 * Kubernetes component formats.
 *   glog/klog:  `Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg`  (L = I, W, E, F)
 *               structured klog: msg is `"text" key="value" key2=value2`
 *   logrus (docker daemon): `time="…" level=info msg="…" key=value`
 */
import { parseLogfmt, normaliseLevel } from './message.js';
import { toUtcTimestamp } from './container.js';

export interface ComponentLine {
  timestamp: string;
  level: string;
  message: string;
  threadId?: number;
  originFile?: string;
  originLine?: number;
  fields?: Record<string, string>;
}

const GLOG_LEVELS: Record<string, string> = { I: 'info', W: 'warning', E: 'error', F: 'fatal' };

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Quick check used to tell a glog header from a continuation line. */
export function isGlogHeader(line: string): boolean {
  return (
    line.length >= 22 &&
    GLOG_LEVELS[line[0]] !== undefined &&
    isDigit(line.charCodeAt(1)) &&
    isDigit(line.charCodeAt(4)) &&
    line.charCodeAt(5) === 32 &&
    line.charCodeAt(8) === 58 &&
    line.charCodeAt(11) === 58
  );
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** Milliseconds to add to a wall-clock time in `timeZone` to get UTC. */
function zoneOffsetMs(timeZone: string, utcGuess: number): number {
  if (timeZone === 'UTC') return 0;
  let format = offsetFormatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    offsetFormatters.set(timeZone, format);
  }
  const parts: Record<string, number> = {};
  for (const p of format.formatToParts(new Date(utcGuess))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return utcGuess - asUtc;
}

/**
 * glog has no year: take the current one, and the previous one if that would put the line more than a day
 * in the future (a December line read in January).
 */
export function glogTimestamp(month: number, day: number, clock: string, micros: string, timeZone: string, nowMs: number): string {
  const year = new Date(nowMs).getUTCFullYear();
  const [hh, mm, ss] = clock.split(':').map(Number);
  let wall = Date.UTC(year, month - 1, day, hh, mm, ss);
  let utc = wall + zoneOffsetMs(timeZone, wall);
  if (utc > nowMs + 86_400_000) {
    wall = Date.UTC(year - 1, month - 1, day, hh, mm, ss);
    utc = wall + zoneOffsetMs(timeZone, wall);
  }
  return new Date(utc).toISOString().slice(0, 19) + '.' + (micros + '000000000').slice(0, 9) + 'Z';
}

export function parseGlogLine(line: string, timeZone: string, nowMs: number): ComponentLine | undefined {
  if (!isGlogHeader(line)) return undefined;
  const level = GLOG_LEVELS[line[0]];
  const month = Number(line.slice(1, 3));
  const day = Number(line.slice(3, 5));
  const clock = line.slice(6, 14);
  let i = 14;
  let micros = '';
  if (line.charCodeAt(i) === 46) {
    const start = ++i;
    while (i < line.length && isDigit(line.charCodeAt(i))) i++;
    micros = line.slice(start, i);
  }
  while (line.charCodeAt(i) === 32) i++;
  const threadStart = i;
  while (i < line.length && isDigit(line.charCodeAt(i))) i++;
  const threadId = i > threadStart ? Number(line.slice(threadStart, i)) : undefined;
  while (line.charCodeAt(i) === 32) i++;
  const bracket = line.indexOf('] ', i);
  let originFile: string | undefined;
  let originLine: number | undefined;
  let message: string;
  if (bracket > i) {
    const origin = line.slice(i, bracket);
    const colon = origin.lastIndexOf(':');
    originFile = colon > 0 ? origin.slice(0, colon) : origin;
    originLine = colon > 0 ? Number(origin.slice(colon + 1)) : undefined;
    if (originLine !== undefined && Number.isNaN(originLine)) originLine = undefined;
    message = line.slice(bracket + 2);
  } else {
    message = line.slice(i);
  }
  const result: ComponentLine = { timestamp: glogTimestamp(month, day, clock, micros, timeZone, nowMs), level, message, threadId, originFile, originLine };
  // Structured klog: `"message" key="value" ...`
  if (message.charCodeAt(0) === 34) {
    const end = findClosingQuote(message, 0);
    if (end > 0) {
      let text: string;
      try {
        text = JSON.parse(message.slice(0, end + 1)) as string;
      } catch {
        return result;
      }
      const rest = message.slice(end + 1).trim();
      const fields = rest.length > 0 ? parseLogfmt(rest) : undefined;
      if (rest.length === 0 || fields !== undefined) {
        result.message = text;
        result.fields = fields;
      }
    }
  }
  return result;
}

function findClosingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 34) return i;
  }
  return -1;
}

export function parseLogrusLine(line: string): ComponentLine | undefined {
  if (!line.startsWith('time="')) return undefined;
  const fields = parseLogfmt(line);
  if (fields === undefined || fields.time === undefined) return undefined;
  const timestamp = toUtcTimestamp(fields.time) ?? (Number.isNaN(Date.parse(fields.time)) ? undefined : new Date(fields.time).toISOString());
  if (timestamp === undefined) return undefined;
  const { time: _time, level, msg, ...rest } = fields;
  return {
    timestamp,
    level: normaliseLevel(level) ?? 'info',
    message: msg ?? '',
    fields: Object.keys(rest).length > 0 ? rest : undefined,
  };
}
