/**
 * Bytes to message text: UTF-8 decoding with invalid sequences replaced and flagged, NUL bytes removed
 * and flagged, and cutting at a byte limit on a character boundary.
 */
import { isUtf8 } from 'node:buffer';
import { RecordFlag } from '../event/record.js';

const REPLACEMENT = '\uFFFD';

export interface DecodedText {
  text: string;
  flags: number;
}

/** Decode buf[start,end). One native decode in the common case; extra checks only when a U+FFFD or NUL shows up. */
export function decodeText(buf: Buffer, start: number, end: number, out: DecodedText): void {
  let text = buf.toString('utf8', start, end);
  let flags = 0;
  if (text.includes(REPLACEMENT) && !isUtf8(buf.subarray(start, end))) flags |= RecordFlag.INVALID_UTF8;
  if (text.includes('\0')) {
    text = text.replaceAll('\0', '');
    flags |= RecordFlag.NUL_REMOVED;
  }
  out.text = text;
  out.flags = flags;
}

/** Largest length ≤ limit that does not split a UTF-8 sequence in buf[start, start+limit). */
export function utf8Boundary(buf: Buffer, start: number, limit: number): number {
  let cut = limit;
  // Back off continuation bytes (10xxxxxx) so the cut lands before a character's first byte.
  while (cut > 0 && (buf[start + cut] & 0xc0) === 0x80) cut--;
  return cut;
}

/** Cut a string to at most `maxBytes` of UTF-8, on a character boundary. */
export function cutString(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  return bytes.toString('utf8', 0, utf8Boundary(bytes, 0, maxBytes));
}
