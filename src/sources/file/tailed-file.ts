/**
 * One open file being tailed: reads chunks, splits lines, feeds its parser, and turns each chunk's
 * records into one acknowledgement batch whose commit position never passes an incomplete record.
 */
import type { FileHandle } from 'node:fs/promises';
import { OrderedAcks } from '../../agent/acks.js';
import { rawLineRecord } from '../../agent/component-errors.js';
import type { FileContext, LogRecord } from '../../event/record.js';
import type { FileParser } from '../../parsers/file-parser.js';
import type { FileFingerprint } from './identity.js';

export type TailState = 'active' | 'draining' | 'closed';

/**
 * One read buffer shared by all files of a tailer (reads are sequential): records hold decoded strings,
 * and an incomplete last line is copied out, so nothing keeps the buffer after a chunk is parsed.
 */
export class ReadBuffer {
  private buffer = Buffer.allocUnsafe(0);
  get(size: number): Buffer {
    if (this.buffer.length < size) this.buffer = Buffer.allocUnsafe(size);
    return this.buffer;
  }
}

export interface ChunkSink {
  /** records of one batch, batch already attached and counted */
  emit(records: LogRecord[]): void;
  /** the file's parser threw (the record was dead-lettered into the batch): count and report it */
  componentFailed?(component: string, error: unknown, site: { file?: string; offset?: number }): void;
}

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

export class TailedFile {
  state: TailState = 'active';
  /** next byte to read */
  readPos: number;
  /** bytes of an incomplete last line, and the file offset of its first byte */
  private carry: Buffer | undefined;
  private carryStart = 0;
  /** a line longer than the record limit: its head was emitted, the rest is skipped up to the newline */
  private skipping = false;
  private skipStart = 0;
  /** when the file was found renamed away or deleted (state 'draining') */
  drainingSinceMs = 0;
  lastCheckMs = 0;
  lastDataMs = Date.now();
  /**
   * Since when the reader has found the file at its end without growth (0: it has not, or it read data
   * since). Only this can tell a writer that stopped mid-record from a reader that was held back.
   */
  quietSinceMs = 0;
  readonly openedAtMs = Date.now();
  /** bytes known to be in the file (from the last stat), for the bytes-behind metric */
  knownSize = 0;
  nlink = 1;
  /** its content was truncated away: late acknowledgements release budget but no longer move the checkpoint */
  detached = false;
  /** what the path said about the file (for the input's opened/closed hooks) */
  origin: Record<string, string> = {};
  readonly acks: OrderedAcks<number>;
  /**
   * Told of each record cut at the record size limit: the byte offset of the line, and the line's size
   * (undefined when the cut record was joined from runtime pieces each within the limit).
   */
  onCut: ((offset: number, lineBytes: number | undefined) => void) | undefined;

  constructor(
    readonly handle: FileHandle,
    readonly path: string,
    public realPath: string,
    readonly input: string,
    readonly fingerprint: FileFingerprint,
    readonly key: string,
    readonly context: FileContext,
    readonly parser: FileParser,
    startOffset: number,
    onCommit: (file: TailedFile, position: number, releasedBytes: number) => void,
  ) {
    this.readPos = startOffset;
    this.acks = new OrderedAcks<number>((position, released) => onCommit(this, position, released));
  }

  /** Position below which every record has been handed out (what a batch may commit once acknowledged). */
  private commitPosition(linesEnd: number): number {
    let position = linesEnd;
    const pending = this.parser.pendingOffset();
    if (pending >= 0 && pending < position) position = pending;
    if (this.skipping && this.skipStart < position) position = this.skipStart;
    return position;
  }

  /**
   * Read up to `chunkBytes` and emit the records completed by it. Returns bytes read (0 at end of file).
   * `maxLineBytes` bounds the carry: a longer line is handed to the parser (which cuts and flags it).
   */
  async readChunk(chunkBytes: number, maxLineBytes: number, sink: ChunkSink, scratch: ReadBuffer): Promise<number> {
    const carry = this.carry;
    const carryLength = carry === undefined ? 0 : carry.length;
    let buffer = scratch.get(carryLength + chunkBytes);
    if (carry !== undefined) carry.copy(buffer, 0);
    const { bytesRead } = await this.handle.read(buffer, carryLength, chunkBytes, this.readPos);
    if (bytesRead === 0) {
      if (this.quietSinceMs === 0) this.quietSinceMs = Date.now();
      return 0;
    }
    this.quietSinceMs = 0;
    const base = carry === undefined ? this.readPos : this.carryStart;
    this.readPos += bytesRead;
    this.lastDataMs = Date.now();
    buffer = buffer.subarray(0, carryLength + bytesRead);

    const out: LogRecord[] = [];
    const parser = this.parser;
    let lineStart = 0;
    let newline = buffer.indexOf(NEWLINE, carryLength);
    while (newline !== -1) {
      if (this.skipping) {
        this.skipping = false;
        // Reported once the line's end is found, so the report can give the size that was lost.
        this.onCut?.(this.skipStart, base + newline - this.skipStart);
      } else {
        const lineEnd = newline > lineStart && buffer[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline;
        const cutsBefore = parser.counters.truncated;
        this.pushLine(buffer, lineStart, lineEnd, base + lineStart, out, sink);
        // A line within the limit that made a cut closed a record joined from runtime pieces (CRI P/F).
        if (parser.counters.truncated !== cutsBefore) this.onCut?.(base + lineStart, lineEnd - lineStart > maxLineBytes ? lineEnd - lineStart : undefined);
      }
      lineStart = newline + 1;
      newline = buffer.indexOf(NEWLINE, lineStart);
    }
    const rest = buffer.length - lineStart;
    if (rest === 0) {
      this.carry = undefined;
    } else if (this.skipping) {
      this.carry = undefined; // still inside the over-long line: drop its bytes as they come
    } else if (rest > maxLineBytes) {
      // Emit the head now (cut by the parser) instead of holding an unbounded line in memory.
      this.pushLine(buffer, lineStart, buffer.length, base + lineStart, out, sink);
      this.skipping = true;
      this.skipStart = base + lineStart;
      this.carry = undefined;
    } else {
      this.carry = Buffer.from(buffer.subarray(lineStart));
      this.carryStart = base + lineStart;
    }
    const linesEnd = this.carry === undefined ? base + buffer.length : this.carryStart;
    this.emitBatch(out, this.commitPosition(linesEnd), bytesRead, sink);
    return bytesRead;
  }

  /**
   * Release records the parser holds past their flush timeout (multiline, idle partials), counted from
   * when the reader found the file at its end. Called only right after the reader saw the end (size
   * checked): a reader held back by the budget or a shutdown never cuts a record its writer is still writing.
   */
  flushIdle(now: number, sink: ChunkSink): void {
    if (this.quietSinceMs === 0 || this.readPos < this.knownSize) return;
    const out: LogRecord[] = [];
    this.guarded(sink, () => this.parser.flushIdle(now, out, this.quietSinceMs));
    if (out.length > 0) {
      const linesEnd = this.carry === undefined ? this.readPos : this.carryStart;
      this.emitBatch(out, this.commitPosition(linesEnd), 0, sink);
    }
  }

  /** The file will not grow any more (rotated away and drained, deleted, or oneshot at its end). */
  flushAll(sink: ChunkSink, includeIncompleteLine: boolean): void {
    const out: LogRecord[] = [];
    if (includeIncompleteLine && this.carry !== undefined && !this.skipping) {
      this.pushLine(this.carry, 0, this.carry.length, this.carryStart, out, sink);
      this.carry = undefined;
    }
    // The rest of an over-long line ends with the file: its head was shipped, so the file is read to its end.
    if (includeIncompleteLine && this.skipping) {
      this.skipping = false;
      this.onCut?.(this.skipStart, this.readPos - this.skipStart);
    }
    this.guarded(sink, () => this.parser.flushAll(out));
    const linesEnd = this.carry === undefined ? this.readPos : this.carryStart;
    this.emitBatch(out, this.commitPosition(linesEnd), 0, sink);
  }

  /**
   * Hand one line to the parser. A parser that throws must neither lose the line nor leave the chunk
   * unbatched: the raw line becomes a dead letter of this chunk's batch, and the failure is reported.
   */
  private pushLine(buffer: Buffer, start: number, end: number, offset: number, out: LogRecord[], sink: ChunkSink): void {
    try {
      this.parser.push(buffer, start, end, offset, out);
    } catch (error) {
      const component = `parser:${this.parser.format}`;
      out.push(rawLineRecord(this.context, buffer.subarray(start, end), offset, component, error));
      sink.componentFailed?.(component, error, { file: this.context.path, offset });
    }
  }

  /**
   * A parser flush that throws: which record it was is unknown, but what the parser still holds keeps the
   * checkpoint below it (pendingOffset), so it is read again after a restart; reported, never silent.
   */
  private guarded(sink: ChunkSink, flush: () => void): void {
    try {
      flush();
    } catch (error) {
      sink.componentFailed?.(`parser:${this.parser.format}`, error, { file: this.context.path, offset: this.parser.pendingOffset() });
    }
  }

  private emitBatch(out: LogRecord[], position: number, bytes: number, sink: ChunkSink): void {
    const batch = this.acks.newBatch(position, bytes);
    batch.pending = out.length;
    for (let i = 0; i < out.length; i++) out[i].batch = batch;
    try {
      if (out.length > 0) sink.emit(out);
    } finally {
      // Sealed whatever happened downstream: an open batch would hold this file's checkpoint forever.
      batch.seal();
    }
  }

  get hasIncompleteLine(): boolean {
    return this.carry !== undefined;
  }
}
