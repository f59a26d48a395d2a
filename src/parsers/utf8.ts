/**
 * Bytes to message text. Invalid UTF-8 becomes U+FFFD (flagged), NUL bytes are removed (flagged: they are
 * legal JSON but break tools downstream), and texts are cut at a byte limit without splitting a character.
 */
import { isUtf8 } from 'node:buffer';
import { RecordFlag } from '../event/record.js';

const REPLACEMENT = '\uFFFD';

/**
 * Flags for a string just decoded from buf[start,end): one scan for U+FFFD (V8 answers at once for
 * one-byte strings, the common case), and the byte validation only when one shows up, since the input may
 * legitimately contain an encoded U+FFFD.
 */
export function invalidUtf8Flag(text: string, buf: Buffer, start: number, end: number): number {
  return text.includes(REPLACEMENT) && !isUtf8(buf.subarray(start, end)) ? RecordFlag.INVALID_UTF8 : 0;
}

/** Scratch result of {@link decodeText}: reused so the hot path allocates nothing but the string. */
export interface DecodedText {
  text: string;
  flags: number;
}

/** Decode buf[start,end) into `out`: one native decode in the common case, more work only for bad bytes. */
export function decodeText(buf: Buffer, start: number, end: number, out: DecodedText): void {
  let text = buf.toString('utf8', start, end);
  let flags = invalidUtf8Flag(text, buf, start, end);
  if (text.includes('\0')) {
    text = text.replaceAll('\0', '');
    flags |= RecordFlag.NUL_REMOVED;
  }
  out.text = text;
  out.flags = flags;
}

/**
 * Largest cut ≤ limit such that buf[start, start+cut) does not end inside a UTF-8 sequence. Looks back at
 * most 3 bytes: in invalid input a longer run of continuation bytes is cut anywhere (it decodes to U+FFFD
 * either way).
 */
export function utf8Boundary(buf: Buffer, start: number, limit: number): number {
  if (limit <= 0) return 0;
  for (let back = 0; back < 4 && back < limit; back++) {
    const at = start + limit - back;
    // the byte at the cut: a continuation byte (10xxxxxx) means the cut would split its character
    if ((buf[at] & 0xc0) !== 0x80) return limit - back;
  }
  return limit;
}

/** UTF-8 byte length of a string; the length itself when that is exact (no code unit above 0x7F). */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Cut a string to at most `maxBytes` of UTF-8, on a character boundary (whole string when it fits). */
export function cutString(text: string, maxBytes: number): string {
  // Every UTF-16 code unit is at most 3 UTF-8 bytes: short strings need no measuring.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  return bytes.toString('utf8', 0, utf8Boundary(bytes, 0, maxBytes));
}
