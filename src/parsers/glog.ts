/**
 * glog / klog, the format of kubelet, kube-proxy and the control plane:
 *   `Lmmdd hh:mm:ss.uuuuuu threadid file:line] message`   (L = I, W, E or F)
 * and its structured form, where the message is `"text" key="value" key2=value2` and a multi-line value
 * is written `key=<` + tab-indented lines + ` >`. Lines without a header continue the record before them.
 *
 * The header has no year and is in the node's local time: the year is the latest one that does not put
 * the line more than a day into the future (a December line read in January is last year's, a 1 January
 * line read on 31 December just before midnight on a node whose clock is behind is next year's).
 */
import { dedot } from '../event/metadata.js';
import { readQuoted } from './message.js';

const LEVELS: Record<string, string> = { I: 'info', W: 'warn', E: 'error', F: 'fatal' };
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** The parts of a glog header; filled in place by {@link parseGlogHeader}. */
export interface GlogHeader {
  level: string;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** digits after the seconds' dot, as written (usually 6) */
  fraction: string;
  threadId: number | undefined;
  originFile: string | undefined;
  originLine: number | undefined;
  messageStart: number;
}

export function newGlogHeader(): GlogHeader {
  return {
    level: '',
    month: 0,
    day: 0,
    hour: 0,
    minute: 0,
    second: 0,
    fraction: '',
    threadId: undefined,
    originFile: undefined,
    originLine: undefined,
    messageStart: 0,
  };
}

function digit(line: string, i: number): number {
  const c = line.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -100;
}

function two(line: string, i: number): number {
  return digit(line, i) * 10 + digit(line, i + 1);
}

/** Quick check used to tell a header from a continuation line. */
export function isGlogHeader(line: string): boolean {
  return (
    line.length >= 14 &&
    LEVELS[line[0]] !== undefined &&
    line.charCodeAt(5) === 32 &&
    line.charCodeAt(8) === 58 &&
    line.charCodeAt(11) === 58 &&
    two(line, 1) >= 1 &&
    two(line, 3) >= 1
  );
}

/** Read the header of `line` into `out`; false when the line has none (a continuation line). */
export function parseGlogHeader(line: string, out: GlogHeader): boolean {
  if (!isGlogHeader(line)) return false;
  const month = two(line, 1);
  const day = two(line, 3);
  const hour = two(line, 6);
  const minute = two(line, 9);
  const second = two(line, 12);
  if (month > 12 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return false;
  let i = 14;
  let fraction = '';
  if (line.charCodeAt(i) === 46) {
    const start = ++i;
    while (digit(line, i) >= 0) i++;
    fraction = line.slice(start, i);
  }
  const n = line.length;
  while (i < n && line.charCodeAt(i) === 32) i++;
  const threadStart = i;
  while (digit(line, i) >= 0) i++;
  out.threadId = i > threadStart && (i === n || line.charCodeAt(i) === 32) ? Number(line.slice(threadStart, i)) : undefined;
  if (out.threadId === undefined) i = threadStart;
  while (i < n && line.charCodeAt(i) === 32) i++;
  // `file.go:123]` up to the first space
  let originEnd = i;
  while (originEnd < n && line.charCodeAt(originEnd) !== 32) originEnd++;
  out.originFile = undefined;
  out.originLine = undefined;
  if (originEnd > i && line.charCodeAt(originEnd - 1) === 93) {
    const origin = line.slice(i, originEnd - 1);
    const colon = origin.lastIndexOf(':');
    const number = colon > 0 ? Number(origin.slice(colon + 1)) : NaN;
    out.originFile = Number.isInteger(number) ? origin.slice(0, colon) : origin;
    out.originLine = Number.isInteger(number) ? number : undefined;
    out.messageStart = Math.min(originEnd + 1, n);
  } else {
    out.messageStart = i;
  }
  out.level = LEVELS[line[0]];
  out.month = month;
  out.day = day;
  out.hour = hour;
  out.minute = minute;
  out.second = second;
  out.fraction = fraction;
  return true;
}

/** Wall-clock times of one time zone to UTC, with the year inferred. One per file: it caches per hour. */
export class GlogClock {
  private readonly format: Intl.DateTimeFormat | undefined;
  private cachedHour = NaN;
  private cachedOffset = 0;
  private lastKey = NaN;
  private lastSecond = '';

  /** Throws RangeError for a time zone name the runtime does not know. */
  constructor(readonly timeZone: string) {
    this.format =
      timeZone === 'UTC' || timeZone === 'Etc/UTC'
        ? undefined
        : new Intl.DateTimeFormat('en-US', {
            timeZone,
            hourCycle: 'h23',
            year: 'numeric',
            month: 'numeric',
            day: 'numeric',
            hour: 'numeric',
            minute: 'numeric',
            second: 'numeric',
          });
  }

  /** The zone's offset from UTC (ms, east positive) at an instant. Intl is slow: called once per wall-clock hour. */
  private offsetAt(instant: number): number {
    const whole = instant - (((instant % 1000) + 1000) % 1000);
    const p: Record<string, number> = {};
    for (const part of this.format!.formatToParts(whole)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - whole;
  }

  /** UTC milliseconds of a wall-clock time (given as if it were UTC) in this zone. */
  toUtc(wall: number): number {
    if (this.format === undefined) return wall;
    const hour = Math.floor(wall / HOUR_MS);
    if (hour !== this.cachedHour) {
      let offset = this.offsetAt(wall);
      const second = this.offsetAt(wall - offset);
      if (second !== offset) offset = second; // the guess crossed a DST change
      this.cachedHour = hour;
      this.cachedOffset = offset;
    }
    return wall - this.cachedOffset;
  }

  /**
   * RFC 3339 UTC timestamp of a header read at `nowMs`. The year is chosen on the wall-clock value (a zone
   * is less than a day from UTC, well inside the one-day tolerance), so the zone is consulted once per line.
   */
  timestamp(h: GlogHeader, nowMs: number): string {
    // Lines come in order, many per second: the last second's answer is reused while the clock stays in
    // the same hour (the year choice cannot change faster than that).
    const key = ((((h.month * 32 + h.day) * 24 + h.hour) * 60 + h.minute) * 61 + h.second) * 1e6 + Math.floor(nowMs / HOUR_MS);
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.lastSecond = this.second(h, nowMs);
    }
    return h.fraction.length > 0 ? this.lastSecond + '.' + h.fraction + 'Z' : this.lastSecond + 'Z';
  }

  /** `YYYY-MM-DDTHH:MM:SS` in UTC of a header's wall-clock second. */
  private second(h: GlogHeader, nowMs: number): string {
    const year = new Date(nowMs).getUTCFullYear();
    let wall = NaN;
    for (let y = year + 1; y >= year - 1; y--) {
      const candidate = Date.UTC(y, h.month - 1, h.day, h.hour, h.minute, h.second);
      if (new Date(candidate).getUTCDate() !== h.day) continue; // 29 February of a year without one
      wall = candidate;
      if (candidate <= nowMs + DAY_MS) break;
    }
    if (Number.isNaN(wall)) wall = Date.UTC(year, h.month - 1, h.day, h.hour, h.minute, h.second);
    return new Date(this.toUtc(wall)).toISOString().slice(0, 19);
  }
}

function skipBlank(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 9) break;
    i++;
  }
  return i;
}

/** A `{...}` / `[...]` value (Go's %+v of a struct or slice may contain spaces), quotes respected. */
function bracketEnd(text: string, i: number): number {
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 34) {
      j = readQuoted(text, j).end - 1;
    } else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      if (--depth === 0) return j + 1;
    } else if (c === 10 && depth > 0) return -1;
  }
  return -1;
}

/**
 * Structured klog: `"text" key="value" n=3 obj={A:1 B:2} multi=<` ... ` >` → the text and the fields
 * (values as written, strings unquoted; keys dedotted). undefined when the message is not of this form,
 * in which case it stays as it is.
 */
export function parseKlogStructured(message: string): { text: string; fields: Record<string, string> | undefined } | undefined {
  if (message.charCodeAt(0) !== 34) return undefined;
  const head = readQuoted(message, 0);
  if (message.charCodeAt(head.end - 1) !== 34 || head.end === 1) return undefined;
  let i = skipBlank(message, head.end);
  if (i === message.length) return { text: head.value, fields: undefined };
  if (i === head.end) return undefined; // `"quoted"text`: not structured
  const fields: Record<string, string> = {};
  const n = message.length;
  while (i < n) {
    const keyStart = i;
    while (i < n) {
      const c = message.charCodeAt(i);
      if (c === 61 || c === 32 || c === 10 || c === 34) break;
      i++;
    }
    if (i === keyStart || message.charCodeAt(i) !== 61) return undefined;
    const key = dedot(message.slice(keyStart, i));
    i++;
    const c = message.charCodeAt(i);
    let value: string;
    if (c === 34) {
      const quoted = readQuoted(message, i);
      value = quoted.value;
      i = quoted.end;
    } else if (c === 60 && message.charCodeAt(i + 1) === 10) {
      // multi-line value: `<`, lines starting with a tab, then ` >`
      const close = message.indexOf('\n >', i + 1);
      if (close < 0) return undefined;
      value = message
        .slice(i + 2, close)
        .split('\n')
        .map((l) => (l.charCodeAt(0) === 9 ? l.slice(1) : l))
        .join('\n');
      i = close + 3;
    } else if (c === 123 || c === 91 || (c === 38 && message.charCodeAt(i + 1) === 123)) {
      const end = bracketEnd(message, c === 38 ? i + 1 : i);
      if (end < 0) return undefined;
      value = message.slice(i, end);
      i = end;
    } else {
      const start = i;
      while (i < n && message.charCodeAt(i) !== 32 && message.charCodeAt(i) !== 10) i++;
      value = message.slice(start, i);
    }
    fields[key] = value;
    const next = skipBlank(message, i);
    if (next === i && next < n) return undefined; // no separator after the value
    i = next;
  }
  return { text: head.value, fields };
}

/** One glog line parsed on its own (journald entries that carry glog lines). */
export interface GlogLine {
  timestamp: string;
  level: string;
  message: string;
  threadId?: number;
  originFile?: string;
  originLine?: number;
  fields?: Record<string, string>;
}

const clocks = new Map<string, GlogClock>();

export function parseGlogLine(line: string, timeZone: string, nowMs: number): GlogLine | undefined {
  const h = newGlogHeader();
  if (!parseGlogHeader(line, h)) return undefined;
  let clock = clocks.get(timeZone);
  if (clock === undefined) clocks.set(timeZone, (clock = new GlogClock(timeZone)));
  const result: GlogLine = { timestamp: clock.timestamp(h, nowMs), level: h.level, message: line.slice(h.messageStart) };
  if (h.threadId !== undefined) result.threadId = h.threadId;
  if (h.originFile !== undefined) result.originFile = h.originFile;
  if (h.originLine !== undefined) result.originLine = h.originLine;
  const structured = parseKlogStructured(result.message);
  if (structured !== undefined) {
    result.message = structured.text;
    if (structured.fields !== undefined) result.fields = structured.fields;
  }
  return result;
}
