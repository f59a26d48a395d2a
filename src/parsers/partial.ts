/**
 * Pieces of one line split by the container runtime (CRI `P` pieces, docker `log` values without their
 * newline), joined per stream until the final piece. The joined text never grows past the record limit:
 * the piece that crosses it is cut, later pieces are only counted, not kept.
 *
 * CRI pieces are kept as bytes and decoded once at the end, because containerd splits at a byte count
 * and may cut a character in two: decoding piece by piece would turn a valid character into two U+FFFD.
 * (Docker pieces arrive as JSON strings, already decoded by the daemon.)
 */
import { RecordFlag, type Stream } from '../event/record.js';
import { byteLength, invalidUtf8Flag, utf8Boundary } from './utf8.js';

/** Largest piece buffer kept between records (pieces of short lines); longer records allocate their own. */
const RETAINED_BYTES = 4096;

export class PartialJoin {
  /** offset of the first piece, -1 when nothing is held */
  offset = -1;
  timestamp = '';
  /** UTF-8 bytes held (at most maxBytes) */
  bytes = 0;
  flags = 0;
  /** clock reading when the last piece arrived (idle partial lines are released eventually) */
  lastInputMs = 0;
  /** CRI: the pieces' bytes, copied (the tailer reuses its read buffer); kept between records while small */
  private store: Buffer | undefined = undefined;
  private stored = 0;
  /** docker: decoded text */
  private text = '';

  constructor(
    readonly stream: Stream,
    private readonly maxBytes: number,
  ) {}

  begin(offset: number, timestamp: string): void {
    this.offset = offset;
    this.timestamp = timestamp;
    this.bytes = 0;
    this.flags = 0;
  }

  get truncated(): boolean {
    return (this.flags & RecordFlag.TRUNCATED) !== 0;
  }

  /** Append the bytes buf[start,end). Returns true when this piece crossed the limit (the record is cut now). */
  appendBytes(buf: Buffer, start: number, end: number): boolean {
    if (this.truncated) return false;
    const room = this.maxBytes - this.bytes;
    const crosses = end - start > room;
    // Past the limit, keep up to 3 more bytes so the cut can be placed on a character boundary at the end.
    const keep = crosses ? Math.min(end - start, room + 3) : end - start;
    const need = this.stored + keep;
    let store = this.store;
    if (store === undefined || store.length < need) {
      const grown = Buffer.allocUnsafe(Math.min(Math.max(need, 2 * (store?.length ?? 0), 256), this.maxBytes + 3));
      if (store !== undefined) store.copy(grown, 0, 0, this.stored);
      this.store = store = grown;
    }
    buf.copy(store, this.stored, start, start + keep);
    this.stored = need;
    if (!crosses) {
      this.bytes += keep;
      return false;
    }
    this.bytes = this.maxBytes;
    this.flags |= RecordFlag.TRUNCATED;
    return true;
  }

  /** Append an already decoded piece (docker). Returns true when this piece crossed the limit. */
  appendText(text: string, flags: number): boolean {
    if (this.truncated) return false;
    this.flags |= flags;
    const room = this.maxBytes - this.bytes;
    const bytes = byteLength(text);
    if (bytes <= room) {
      this.text += text;
      this.bytes += bytes;
      return false;
    }
    const encoded = Buffer.from(text, 'utf8');
    const cut = utf8Boundary(encoded, 0, room);
    this.text += encoded.toString('utf8', 0, cut);
    this.bytes += cut;
    this.flags |= RecordFlag.TRUNCATED;
    return true;
  }

  /** The joined message (flags updated), and nothing held any more. */
  take(): string {
    let text = this.text;
    const store = this.store;
    if (store !== undefined && this.stored > 0) {
      const stop = this.stored > this.maxBytes ? utf8Boundary(store, 0, this.maxBytes) : this.stored;
      text = store.toString('utf8', 0, stop);
      this.flags |= invalidUtf8Flag(text, store, 0, stop);
      if (text.includes('\0')) {
        text = text.replaceAll('\0', '');
        this.flags |= RecordFlag.NUL_REMOVED;
      }
      // a long record's buffer is let go: an idle file keeps at most a small one per stream
      if (store.length > RETAINED_BYTES) this.store = undefined;
    }
    this.stored = 0;
    this.text = '';
    this.offset = -1;
    return text;
  }
}
