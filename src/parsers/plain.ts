/**
 * A line taken as it is (plain text files, lines that are not in their file's format, glog/logrus lines
 * before their header is read): decoded with bad bytes flagged, cut at the record limit.
 */
import { RecordFlag } from '../event/record.js';
import { decodeText, utf8Boundary, type DecodedText } from './utf8.js';

/**
 * Decode buf[start,end) into `out`, at most `maxBytes` of it (cut on a character boundary, flagged
 * TRUNCATED: the tailer hands over the head of an over-long line and skips the rest).
 * Returns the number of input bytes the text stands for.
 */
export function decodeLine(buf: Buffer, start: number, end: number, maxBytes: number, out: DecodedText): number {
  if (end - start <= maxBytes) {
    decodeText(buf, start, end, out);
    return end - start;
  }
  const stop = start + utf8Boundary(buf, start, maxBytes);
  decodeText(buf, start, stop, out);
  out.flags |= RecordFlag.TRUNCATED;
  return stop - start;
}
