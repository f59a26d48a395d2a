/**
 * The CRI log format (containerd, CRI-O), one line per piece:
 *   `<RFC3339Nano timestamp> <stdout|stderr> <tags> <text>`
 * Tags are `:`-separated; `P` marks a partial piece (the runtime split a long line, at 16 KiB by
 * default), `F` the final one. containerd writes UTC (`Z`) with trailing zeros of the fraction trimmed;
 * CRI-O may write the node's offset (`+02:00`). A `Z` timestamp whose digits and ranges check out here
 * is used as written, without a Date.
 *
 * The header is read byte by byte in the Buffer (no regular expression, no string until it is known to be
 * CRI): this runs once per line of every container.
 */
import type { Stream } from '../event/record.js';
import { plausibleDateTime } from './time.js';

const SPACE = 32;
/** longest timestamp: `2006-01-02T15:04:05.999999999+07:00` is 35 bytes */
const MAX_TIMESTAMP = 35;
/** shortest: `2006-01-02T15:04:05Z` */
const MIN_TIMESTAMP = 20;

/** Where the parts of one CRI line are; filled in place by {@link parseCriHeader}. */
export interface CriHeader {
  /** end of the timestamp (the first space) */
  timestampEnd: number;
  /** the timestamp ends in `Z` and its date and time digits were checked: usable as written */
  utc: boolean;
  stream: Stream;
  partial: boolean;
  /** first byte of the text (== end for an empty text) */
  textStart: number;
}

export function newCriHeader(): CriHeader {
  return { timestampEnd: 0, utc: false, stream: 'stdout', partial: false, textStart: 0 };
}

function digits2(buf: Buffer, i: number): boolean {
  return buf[i] - 48 <= 9 && buf[i] >= 48 && buf[i + 1] - 48 <= 9 && buf[i + 1] >= 48;
}

/**
 * Read the header of buf[start,end). false when the line is not CRI. The timestamp's shape is checked here
 * (date digits and separators); its value by {@link toUtcTimestamp} once it is a string.
 */
export function parseCriHeader(buf: Buffer, start: number, end: number, out: CriHeader): boolean {
  // `YYYY-MM-DDTHH:MM:SS` then the fraction / zone up to the first space
  if (end - start < MIN_TIMESTAMP + 8) return false;
  if (buf[start + 4] !== 45 || buf[start + 7] !== 45 || buf[start + 10] !== 84 || buf[start + 13] !== 58 || buf[start + 16] !== 58) return false;
  if (
    !digits2(buf, start) ||
    !digits2(buf, start + 2) ||
    !digits2(buf, start + 5) ||
    !digits2(buf, start + 8) ||
    !digits2(buf, start + 11) ||
    !digits2(buf, start + 14) ||
    !digits2(buf, start + 17)
  )
    return false;
  let sp = start + MIN_TIMESTAMP - 1;
  const limit = Math.min(end, start + MAX_TIMESTAMP + 1);
  while (sp < limit && buf[sp] !== SPACE) sp++;
  if (sp >= limit) return false;
  // `stdout ` / `stderr `
  const s = sp + 1;
  if (s + 8 > end || buf[s] !== 115 || buf[s + 1] !== 116 || buf[s + 2] !== 100 || buf[s + 6] !== SPACE) return false;
  let stream: Stream;
  if (buf[s + 3] === 111 && buf[s + 4] === 117 && buf[s + 5] === 116) stream = 'stdout';
  else if (buf[s + 3] === 101 && buf[s + 4] === 114 && buf[s + 5] === 114) stream = 'stderr';
  else return false;
  // tags: almost always the single letter F or P
  const t = s + 7;
  let partial: boolean;
  let tagsEnd = t + 1;
  const tag = buf[t];
  if (tagsEnd === end || buf[tagsEnd] === SPACE) {
    if (tag === 70) partial = false;
    else if (tag === 80) partial = true;
    else return false;
  } else {
    while (tagsEnd < end && buf[tagsEnd] !== SPACE) tagsEnd++;
    partial = hasPartialTag(buf, t, tagsEnd);
  }
  out.timestampEnd = sp;
  out.utc =
    buf[sp - 1] === 90 &&
    (sp === start + MIN_TIMESTAMP || (buf[start + 19] === 46 && fractionDigits(buf, start + 20, sp - 1))) &&
    plausibleDateTime(number2(buf, start + 5), number2(buf, start + 8), number2(buf, start + 11), number2(buf, start + 14), number2(buf, start + 17));
  out.stream = stream;
  out.partial = partial;
  out.textStart = tagsEnd < end ? tagsEnd + 1 : end;
  return true;
}

function number2(buf: Buffer, i: number): number {
  return (buf[i] - 48) * 10 + buf[i + 1] - 48;
}

function fractionDigits(buf: Buffer, from: number, to: number): boolean {
  if (from >= to) return false;
  for (let i = from; i < to; i++) if (buf[i] < 48 || buf[i] > 57) return false;
  return true;
}

/** `:`-separated tags containing `P` (rare: only the single-letter forms are written today). */
function hasPartialTag(buf: Buffer, start: number, end: number): boolean {
  let element = start;
  for (let i = start; i <= end; i++) {
    if (i === end || buf[i] === 58) {
      if (i - element === 1 && buf[element] === 80) return true;
      element = i + 1;
    }
  }
  return false;
}
