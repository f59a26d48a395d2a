/**
 * Does a file look like something other than UTF-8 text? Read as lines, a binary file (a core dump, a
 * gzipped rotation a glob happened to match, a database) becomes thousands of garbage records, so the
 * tailer skips such a file with one warning instead.
 *
 * The heuristic, on the first {@link SAMPLE_BYTES} of the file (never on what follows, so a stray NUL deep
 * inside a text log does not disqualify it):
 * - the first line in a container runtime's format (CRI, docker json-file) → text: the runtime writes
 *   those, and it escapes or passes through whatever the container printed (the CRI parser removes NULs);
 * - a UTF-16 or UTF-32 byte-order mark → not UTF-8 text (said so: converting it is the fix);
 * - NUL bytes in at least a quarter of the even (or odd) positions with ASCII in between → UTF-16 text
 *   without a byte-order mark (said so too);
 * - otherwise binary when at least {@link MIN_SUSPICIOUS} bytes and at least 10% of the sample are NUL,
 *   control characters other than tab, newline, carriage return, form feed, vertical tab, backspace and
 *   escape (ANSI colours), or bytes that are not valid UTF-8. Latin-1 text stays below that (accented
 *   letters are a few percent of a line); compressed or executable data is far above it (~50%).
 */
import { detectFormat } from '../../parsers/detect.js';

export const SAMPLE_BYTES = 8192;
const MIN_SUSPICIOUS = 8;
const SUSPICIOUS_SHARE = 0.1;

export type BinaryVerdict = { binary: false } | { binary: true; reason: string };

const TEXT: BinaryVerdict = { binary: false };

/** Whether `sample` (the first bytes of a file) looks binary, and why. */
export function looksBinary(sample: Buffer): BinaryVerdict {
  if (sample.length === 0) return TEXT;
  const bom = byteOrderMark(sample);
  if (bom !== undefined) return { binary: true, reason: `${bom} text (byte-order mark), not UTF-8: convert it (e.g. iconv -f ${bom} -t UTF-8)` };
  const newline = sample.indexOf(10);
  const firstLineEnd = newline >= 0 ? newline : sample.length;
  const format = detectFormat(sample, 0, firstLineEnd);
  if (format === 'cri' || format === 'docker-json') return TEXT;
  if (looksUtf16(sample))
    return {
      binary: true,
      reason: 'looks like UTF-16 text without a byte-order mark (NUL between ASCII bytes), not UTF-8: convert it (e.g. iconv -f UTF-16LE -t UTF-8)',
    };
  const suspicious = countSuspicious(sample);
  if (suspicious >= MIN_SUSPICIOUS && suspicious >= sample.length * SUSPICIOUS_SHARE) {
    const percent = Math.round((100 * suspicious) / sample.length);
    return {
      binary: true,
      reason: `looks binary: ${percent}% of its first ${sample.length} bytes are NUL, control or invalid UTF-8 bytes (if it is UTF-16 text, convert it to UTF-8)`,
    };
  }
  return TEXT;
}

function byteOrderMark(b: Buffer): string | undefined {
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) return 'UTF-32LE';
  if (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) return 'UTF-32BE';
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return 'UTF-16LE';
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return 'UTF-16BE';
  return undefined;
}

/** NULs on one parity of positions, printable ASCII on the other: ASCII text written as UTF-16. */
function looksUtf16(b: Buffer): boolean {
  if (b.length < 8) return false;
  const pairs = Math.floor(b.length / 2);
  let nulEven = 0;
  let nulOdd = 0;
  for (let i = 0; i + 1 < b.length; i += 2) {
    if (b[i] === 0 && b[i + 1] !== 0) nulEven++;
    else if (b[i + 1] === 0 && b[i] !== 0) nulOdd++;
  }
  return Math.max(nulEven, nulOdd) >= pairs / 4;
}

/** NUL, control characters text does not use, and bytes that are not part of a valid UTF-8 sequence. */
function countSuspicious(b: Buffer): number {
  let count = 0;
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      if ((c < 0x20 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 11 && c !== 8 && c !== 27) || c === 0x7f) count++;
      i++;
      continue;
    }
    const length = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (length === 0) {
      count++;
      i++;
      continue;
    }
    // A sequence cut by the end of the sample is not held against the file.
    if (i + length > b.length) break;
    let valid = true;
    for (let k = 1; k < length; k++) if ((b[i + k] & 0xc0) !== 0x80) valid = false;
    if (valid) i += length;
    else {
      count++;
      i++;
    }
  }
  return count;
}
