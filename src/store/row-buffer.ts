/** The rows of one transaction as they cross from the sink to the store's writer (see FlatRows). */

/**
 * Rows as the sink hands them to the store (built by RowEncoder through {@link RowBuffer}): per row
 * {@link ROW_FIELDS} numbers — microseconds since the epoch, source key (see {@link SourceDescriptor}),
 * level and stream (indexes into `words`, -1 for none), and where the row's id, message and body end in
 * `text` — and the UTF-8 of the id, message and body (the ECS document without its per-source parts),
 * one row after the other.
 *
 * Bytes, not strings, because they cross to the writer thread: the two buffers are transferred, not
 * cloned, and the writer binds byte ranges (CAST(? AS TEXT) in SQL) instead of turning them into strings
 * and back into UTF-8. So no thread holds a batch as 40,000 strings long enough for them to be promoted
 * and collected by a full GC (GC was ~9% of the writer thread and ~20% of the main thread; a cloned
 * batch also cost ~1.7 µs per row).
 * Namespace, pod and container are per source: the writer takes them from the source's descriptor.
 */
export interface FlatRows {
  count: number;
  numbers: Float64Array;
  text: Uint8Array;
  words: string[];
}
export const ROW_FIELDS = 7;
export const F_TS = 0;
export const F_SOURCE = 1;
export const F_LEVEL = 2;
export const F_STREAM = 3;
export const F_ID_END = 4;
export const F_MESSAGE_END = 5;
export const F_BODY_END = 6;

/**
 * Buffers of committed batches, back from the writer for the next ones: without them the writer
 * thread, which allocates little and so rarely collects, held ~60 MB of dead batches (measured external
 * memory 12 → 71 MB between its GCs), and every batch grew its buffers from small again.
 */
const spareBuffers: Array<{ numbers: Float64Array; text: Buffer }> = [];
/** one being filled, two in flight (see shard-sink.ts) */
const MAX_SPARE = 3;

/** A growing {@link FlatRows}. */
export class RowBuffer implements FlatRows {
  count = 0;
  numbers: Float64Array;
  text: Buffer;
  words: string[] = [];
  private textLength = 0;
  private readonly wordIndex = new Map<string, number>();

  constructor() {
    const spare = spareBuffers.pop();
    this.numbers = spare?.numbers ?? new Float64Array(1024 * ROW_FIELDS);
    this.text = spare?.text ?? Buffer.allocUnsafeSlow(256 * 1024);
  }

  /** Give a committed (or failed) batch's buffers back for reuse; nothing may read them afterwards. */
  static recycle(numbers: Float64Array, text: Uint8Array): void {
    if (spareBuffers.length < MAX_SPARE && numbers.byteLength > 0 && text.byteLength > 0) {
      spareBuffers.push({ numbers, text: Buffer.from(text.buffer, text.byteOffset, text.byteLength) });
    }
  }

  /** Append a row; `level` and `stream` are short, repeated values (kept once per batch). */
  push(ts: number, source: number, level: string | undefined, stream: string | undefined, id: string, message: string, body: string): void {
    let at = this.count * ROW_FIELDS;
    if (at + ROW_FIELDS > this.numbers.length) {
      const grown = new Float64Array(this.numbers.length * 2);
      grown.set(this.numbers);
      this.numbers = grown;
    }
    // A UTF-16 code unit is at most 3 bytes of UTF-8.
    const most = this.textLength + (id.length + message.length + body.length) * 3;
    if (most > this.text.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(most, this.text.length * 2));
      this.text.copy(grown, 0, 0, this.textLength);
      this.text = grown;
    }
    const n = this.numbers;
    n[at++] = ts;
    n[at++] = source;
    n[at++] = level === undefined ? -1 : this.word(level);
    n[at++] = stream === undefined ? -1 : this.word(stream);
    n[at++] = this.textLength = this.write(id, this.textLength);
    n[at++] = this.textLength = this.write(message, this.textLength);
    n[at] = this.textLength = this.write(body, this.textLength);
    this.count++;
  }

  /** The buffers to transfer to another thread (the batch is then unusable here). */
  transferList(): ArrayBuffer[] {
    return [this.numbers.buffer as ArrayBuffer, this.text.buffer as ArrayBuffer];
  }

  private write(value: string, at: number): number {
    return at + this.text.write(value, at);
  }

  private word(value: string): number {
    let index = this.wordIndex.get(value);
    if (index === undefined) {
      index = this.words.length;
      this.words.push(value);
      this.wordIndex.set(value, index);
    }
    return index;
  }
}
