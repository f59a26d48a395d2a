/**
 * A line's own time, for records whose source has none (plain files: sidecar, `--input`, component logs
 * in `plain` format). Container runtimes stamp every line, and that stamp stays `@timestamp`.
 *
 * Read at the head of the line, by character checks (no regular expression, no substring until a shape
 * matched):
 *   RFC 3339 / ISO 8601   `2026-12-03T15:04:05.123Z`, `...+01:00`, `...+0100`, zone-less
 *   log4j, Python         `2026-12-03 15:04:05,123` (also `.123`; also inside `[...]`)
 *   Go `log`, nginx       `2026/12/03 15:04:05`
 *   syslog                `Dec  3 15:04:05` (no year: the latest year that does not put it in the future)
 *   Apache/nginx access   `host - user [03/Dec/2026:15:04:05 +0000] "GET ..."`
 * and from a JSON message's `@timestamp`, `timestamp`, `time`, `ts` (RFC 3339 strings, epoch seconds,
 * milliseconds, microseconds or nanoseconds as numbers or digit strings).
 * Zone-less times are in `components.timezone`, turned into UTC by the glog clock (cached per hour).
 */
import { GlogClock, newGlogHeader } from './glog.js';
import { plausibleDateTime } from './time.js';

/** The fields of a recognised timestamp; filled in place by {@link scanTimePrefix}. */
export interface TimeParts {
  /** -1 when the text has no year (syslog) */
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** the fraction's digits are text[fractionStart, fractionEnd) (equal when there is none) */
  fractionStart: number;
  fractionEnd: number;
  /** minutes east of UTC as written, NaN when the text names no zone */
  offsetMinutes: number;
}

export function newTimeParts(): TimeParts {
  return { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, fractionStart: 0, fractionEnd: 0, offsetMinutes: NaN };
}

function digit(text: string, i: number): number {
  const c = text.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1000;
}

function two(text: string, i: number): number {
  return digit(text, i) * 10 + digit(text, i + 1);
}

const MONTHS = new Map([
  ['Jan', 1],
  ['Feb', 2],
  ['Mar', 3],
  ['Apr', 4],
  ['May', 5],
  ['Jun', 6],
  ['Jul', 7],
  ['Aug', 8],
  ['Sep', 9],
  ['Oct', 10],
  ['Nov', 11],
  ['Dec', 12],
]);

/** `Jan`..`Dec` at text[i] → 1..12, else 0 (checked on its first letter before a string is made). */
function monthAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  // J F M A S O N D
  if (c !== 74 && c !== 70 && c !== 77 && c !== 65 && c !== 83 && c !== 79 && c !== 78 && c !== 68) return 0;
  return MONTHS.get(text.slice(i, i + 3)) ?? 0;
}

/** `HH:MM:SS` at text[i], with an optional `.fff` / `,fff` fraction; returns the end, or -1. */
function clockAt(text: string, i: number, out: TimeParts): number {
  if (text.charCodeAt(i + 2) !== 58 || text.charCodeAt(i + 5) !== 58) return -1;
  const hour = two(text, i);
  const minute = two(text, i + 3);
  const second = two(text, i + 6);
  if (hour < 0 || minute < 0 || second < 0) return -1;
  out.hour = hour;
  out.minute = minute;
  out.second = second;
  let end = i + 8;
  const c = text.charCodeAt(end);
  if ((c === 46 || c === 44) && digit(text, end + 1) >= 0) {
    out.fractionStart = ++end;
    while (digit(text, end) >= 0) end++;
    out.fractionEnd = end;
  } else {
    out.fractionStart = out.fractionEnd = end;
  }
  return end;
}

/** `Z`, `+01:00`, `+0100` or `+01` at text[i] into out.offsetMinutes; returns the end (i when there is none). */
function zoneAt(text: string, i: number, out: TimeParts): number {
  const c = text.charCodeAt(i);
  out.offsetMinutes = NaN;
  if (c === 90 || c === 122) {
    out.offsetMinutes = 0;
    return i + 1;
  }
  if (c !== 43 && c !== 45) return i;
  const hours = two(text, i + 1);
  if (hours < 0 || hours > 23) return i;
  let minutes = 0;
  let end = i + 3;
  if (text.charCodeAt(end) === 58) {
    minutes = two(text, end + 1);
    end += 3;
  } else if (digit(text, end) >= 0) {
    minutes = two(text, end);
    end += 2;
  }
  if (minutes < 0 || minutes > 59 || digit(text, end) >= 0) return i;
  out.offsetMinutes = (c === 45 ? -1 : 1) * (hours * 60 + minutes);
  return end;
}

/**
 * A timestamp at text[from] (`[` before it allowed, and then the `]` after it is part of it): fills `out`
 * and returns the index after it, or 0 when the text does not start with one. Shapes only, plus ranges
 * (month 1-12, ...): the value is made by {@link LineClock.timestamp}, when someone wants it.
 */
export function scanTimePrefix(text: string, from: number, out: TimeParts): number {
  let i = from;
  let c = text.charCodeAt(i);
  const bracket = c === 91;
  if (bracket) c = text.charCodeAt(++i);
  let end: number;
  if (c >= 48 && c <= 57) {
    // YYYY-MM-DD or YYYY/MM/DD, then T or a blank, then the clock
    const sep = text.charCodeAt(i + 4);
    if ((sep !== 45 && sep !== 47) || text.charCodeAt(i + 7) !== sep) return 0;
    const t = text.charCodeAt(i + 10);
    if (t !== 84 && t !== 32 && t !== 116) return 0;
    const year = digit(text, i) * 1000 + digit(text, i + 1) * 100 + two(text, i + 2);
    out.month = two(text, i + 5);
    out.day = two(text, i + 8);
    if (year < 1970) return 0;
    out.year = year;
    end = clockAt(text, i + 11, out);
    if (end < 0) return 0;
    end = zoneAt(text, end, out);
  } else {
    // syslog: `Dec  3 15:04:05` / `Dec 03 15:04:05`
    if (text.charCodeAt(i + 3) !== 32) return 0;
    const month = monthAt(text, i);
    if (month === 0) return 0;
    const d1 = text.charCodeAt(i + 4) === 32 ? 0 : digit(text, i + 4);
    const day = d1 * 10 + digit(text, i + 5);
    if (day < 1 || text.charCodeAt(i + 6) !== 32) return 0;
    out.year = -1;
    out.month = month;
    out.day = day;
    end = clockAt(text, i + 7, out);
    if (end < 0) return 0;
    out.offsetMinutes = NaN;
  }
  if (!plausibleDateTime(out.month, out.day, out.hour, out.minute, out.second)) return 0;
  if (bracket) {
    // `[2026-12-03 15:04:05,123]`; a Ruby Logger's `[2026-...T15:04:05.123456 #1234]` ends at the blank
    if (text.charCodeAt(end) === 93) end++;
    else if (text.charCodeAt(end) !== 32) return 0;
  }
  return end;
}

/**
 * Where a leading `YYYY-MM-DD?HH:MM:SS...` / `YYYY/MM/DD ...` (or `[...]` around it) ends, by its
 * separators alone, or 0: for lines whose time is not used (container lines keep the runtime's), only to
 * know where a level word may follow. A handful of character checks instead of {@link scanTimePrefix}'s
 * thirty: this runs on every container line that is not JSON.
 */
export function timeShapeEnd(text: string): number {
  const i = text.charCodeAt(0) === 91 ? 1 : 0;
  const sep = text.charCodeAt(i + 4);
  if ((sep !== 45 && sep !== 47) || text.charCodeAt(i + 7) !== sep || text.charCodeAt(i + 13) !== 58 || text.charCodeAt(i + 16) !== 58) return 0;
  // the fraction and zone, up to the next blank
  let end = i + 19;
  let c = text.charCodeAt(end);
  while (c !== 32 && c !== 9 && end < text.length) c = text.charCodeAt(++end);
  return end;
}

/**
 * Apache/nginx common and combined log format: `[03/Dec/2026:15:04:05 +0000]` after the client address,
 * ident and user (looked for in the line's first 200 characters). Returns the end of the `]`, or 0.
 */
export function scanAccessLogTime(text: string, out: TimeParts): number {
  const n = Math.min(text.length - 28, 200);
  for (let i = 1; i < n; i++) {
    if (text.charCodeAt(i) !== 91 || text.charCodeAt(i - 1) !== 32) continue;
    const j = i + 1;
    if (text.charCodeAt(j + 2) !== 47 || text.charCodeAt(j + 6) !== 47 || text.charCodeAt(j + 11) !== 58 || text.charCodeAt(j + 20) !== 32) continue;
    const day = two(text, j);
    const month = monthAt(text, j + 3);
    const year = two(text, j + 7) * 100 + two(text, j + 9);
    if (day < 1 || month === 0 || year < 1970) continue;
    out.year = year;
    out.month = month;
    out.day = day;
    const clockEnd = clockAt(text, j + 12, out);
    if (clockEnd !== j + 20) return 0;
    const zoneEnd = zoneAt(text, j + 21, out);
    if (zoneEnd === j + 21 || text.charCodeAt(zoneEnd) !== 93) return 0;
    return plausibleDateTime(month, day, out.hour, out.minute, out.second) ? zoneEnd + 1 : 0;
  }
  return 0;
}

/** Keys of a JSON (or logfmt) message that hold its time, in the order they are tried. */
const TIME_KEYS = ['@timestamp', 'timestamp', 'time', 'ts'];
/** 2000-01-01 and 2200-01-01: an epoch number outside is not a time (`"time": 12` is a duration) */
const MIN_EPOCH_MS = 946_684_800_000;
const MAX_EPOCH_MS = 7_258_118_400_000;
/** cache key of "no zone written" (offsets are within ±1439 minutes) */
const NO_ZONE = 100_000;

/** Turns {@link TimeParts} into RFC 3339 UTC strings. One per file parser. */
export class LineClock {
  private readonly header = newGlogHeader();
  private readonly parts = newTimeParts();
  private lastWall = NaN;
  private lastOffset = NO_ZONE;
  private lastSecond = '';

  /** `zone` is the file's glog clock: the same time zone (components.timezone) and its per-hour cache. */
  constructor(
    private readonly zone: GlogClock,
    private readonly now: () => number,
  ) {}

  /** RFC 3339 UTC of a scanned time in `text`, the fraction kept digit for digit (up to 9); undefined if no such day. */
  timestamp(text: string, p: TimeParts): string | undefined {
    const fraction = p.fractionEnd > p.fractionStart ? '.' + text.slice(p.fractionStart, Math.min(p.fractionEnd, p.fractionStart + 9)) : '';
    if (p.year < 0) {
      // no year: the glog rule (the latest year that is not more than a day ahead of now)
      const h = this.header;
      h.month = p.month;
      h.day = p.day;
      h.hour = p.hour;
      h.minute = p.minute;
      h.second = p.second;
      h.fraction = '';
      return this.zone.timestamp(h, this.now()).slice(0, 19) + fraction + 'Z';
    }
    const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    const offset = Number.isNaN(p.offsetMinutes) ? NO_ZONE : p.offsetMinutes;
    // Lines come in order, many per second: the last second's string is reused.
    if (wall !== this.lastWall || offset !== this.lastOffset) {
      if (new Date(wall).getUTCDate() !== p.day) return undefined; // 31 April
      const utc = offset === NO_ZONE ? this.zone.toUtc(wall) : wall - offset * 60_000;
      this.lastWall = wall;
      this.lastOffset = offset;
      this.lastSecond = new Date(utc).toISOString().slice(0, 19);
    }
    return this.lastSecond + fraction + 'Z';
  }

  /** The time a whole string states: a timestamp in one of the shapes above, or epoch digits. */
  fromString(value: string): string | undefined {
    const c = value.charCodeAt(0);
    if (c >= 48 && c <= 57) {
      const end = scanTimePrefix(value, 0, this.parts);
      if (end > 0) return end === value.length ? this.timestamp(value, this.parts) : undefined;
      return epochDigits(value);
    }
    const end = scanTimePrefix(value, 0, this.parts);
    return end > 0 && end === value.length ? this.timestamp(value, this.parts) : undefined;
  }

  /** The time of a parsed JSON (or logfmt) message: its first time key that holds one. */
  fromFields(fields: Record<string, unknown>): string | undefined {
    for (let k = 0; k < TIME_KEYS.length; k++) {
      const value = fields[TIME_KEYS[k]];
      let timestamp: string | undefined;
      if (typeof value === 'string') timestamp = this.fromString(value);
      else if (typeof value === 'number') timestamp = epochTimestamp(value);
      if (timestamp !== undefined) return timestamp;
    }
    return undefined;
  }

  /** The time at the head of a text line (or of an access log line), or undefined. */
  fromText(text: string): string | undefined {
    const p = this.parts;
    if (scanTimePrefix(text, 0, p) > 0 || scanAccessLogTime(text, p) > 0) return this.timestamp(text, p);
    return undefined;
  }
}

/** `1764000000` (s), `1764000000123` (ms), `...456` (µs), `...789` (ns), or seconds with a fraction. */
function epochDigits(value: string): string | undefined {
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if ((c < 48 || c > 57) && !(c === 46 && n - i > 1 && i >= 9)) return undefined;
  }
  // whole digit strings are cut, not computed, so nanoseconds keep every digit
  if (n === 10 || n === 13 || n === 16 || n === 19) {
    if (value.indexOf('.') < 0) {
      const seconds = Number(value.slice(0, 10));
      if (seconds * 1000 < MIN_EPOCH_MS || seconds * 1000 >= MAX_EPOCH_MS) return undefined;
      return new Date(seconds * 1000).toISOString().slice(0, 19) + (n > 10 ? '.' + value.slice(10) : '') + 'Z';
    }
  }
  return epochTimestamp(Number(value));
}

/**
 * An epoch number by its magnitude: seconds (below 1e11, fraction allowed: zap's `ts`), milliseconds
 * (pino's `time`), microseconds, nanoseconds. A double holds microseconds of today exactly, nanoseconds
 * not (JSON.parse already rounded them), so the fraction is written to the microsecond at most.
 */
export function epochTimestamp(value: number): string | undefined {
  if (!Number.isFinite(value) || value <= 0) return undefined;
  let micros: number;
  if (value < 1e11) micros = Math.round(value * 1e6);
  else if (value < 1e14) micros = Math.round(value * 1e3);
  else if (value < 1e17) micros = Math.round(value);
  else micros = Math.round(value / 1e3);
  const ms = Math.floor(micros / 1000);
  if (ms < MIN_EPOCH_MS || ms >= MAX_EPOCH_MS) return undefined;
  const sub = micros % 1000;
  const iso = new Date(ms).toISOString(); // ...T15:04:05.123Z
  return sub === 0 ? iso : iso.slice(0, 23) + String(sub).padStart(3, '0') + 'Z';
}
