/**
 * Timestamps as records carry them: RFC 3339 in UTC with the source's own fraction (up to nanoseconds),
 * e.g. `2026-11-24T15:30:15.123456789Z`.
 */

/**
 * A runtime's RFC 3339 timestamp in UTC: kept as written when it ends in `Z` (the common case, no work),
 * converted when it carries an offset (`+02:00` → `Z`, the fraction kept digit for digit).
 * undefined when the text is not an RFC 3339 date-time.
 */
export function toUtcTimestamp(value: string): string | undefined {
  const length = value.length;
  if (length < 20 || !isDateTime(value)) return undefined;
  const last = value.charCodeAt(length - 1);
  let zoneStart: number;
  if (last === 90 || last === 122) zoneStart = length - 1;
  else if (length >= 25 && value.charCodeAt(length - 3) === 58 && (value.charCodeAt(length - 6) === 43 || value.charCodeAt(length - 6) === 45))
    zoneStart = length - 6;
  else return undefined;
  if (zoneStart !== 19 && !isFraction(value, 19, zoneStart)) return undefined;
  if (last === 90 && value.charCodeAt(10) === 84) return value;
  const ms = Date.parse(value.slice(0, 10) + 'T' + value.slice(11, 19) + (zoneStart === length - 1 ? 'Z' : value.slice(zoneStart)));
  if (Number.isNaN(ms)) return undefined;
  return new Date(ms).toISOString().slice(0, 19) + value.slice(19, zoneStart) + 'Z';
}

/** `.` and at least one digit, only digits after it, in value[from,to). */
function isFraction(value: string, from: number, to: number): boolean {
  if (value.charCodeAt(from) !== 46 || to - from < 2) return false;
  for (let i = from + 1; i < to; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

const DIGIT_POSITIONS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];

/** `YYYY-MM-DDTHH:MM:SS` at the start of `value`: separators, digits, plausible ranges. */
function isDateTime(value: string): boolean {
  if (
    value.charCodeAt(4) !== 45 ||
    value.charCodeAt(7) !== 45 ||
    (value.charCodeAt(10) | 0x20) !== 116 ||
    value.charCodeAt(13) !== 58 ||
    value.charCodeAt(16) !== 58
  ) {
    return false;
  }
  for (let i = 0; i < DIGIT_POSITIONS.length; i++) {
    const c = value.charCodeAt(DIGIT_POSITIONS[i]);
    if (c < 48 || c > 57) return false;
  }
  return plausibleDateTime(two(value, 5), two(value, 8), two(value, 11), two(value, 14), two(value, 17));
}

function two(value: string, i: number): number {
  return (value.charCodeAt(i) - 48) * 10 + value.charCodeAt(i + 1) - 48;
}

/**
 * Month 1-12, day 1-31, hour 0-23, minute 0-59, second 0-60: what a date field needs so Elasticsearch
 * does not reject the document. Days past a month's end are left to Date.parse.
 */
export function plausibleDateTime(month: number, day: number, hour: number, minute: number, second: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60;
}

/** UTC time as an RFC 3339 string with milliseconds, cached per millisecond (lines of one read share it). */
export class ReadClock {
  private lastMs = -1;
  private lastText = '';

  constructor(private readonly now: () => number) {}

  text(): string {
    const ms = this.now();
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastText = new Date(ms).toISOString();
    }
    return this.lastText;
  }
}
