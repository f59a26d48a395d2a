/**
 * Acknowledgements: how "the sink stored it" turns into "the checkpoint may move".
 *
 * A source groups the records it produced from one read into an {@link AckBatch}. Sinks acknowledge each
 * record once ({@link ackRecord}) when it is stored, found already stored (duplicate) or dead-lettered.
 * An {@link OrderedAcks} tracker per file/stream releases batches strictly in order, so the committed
 * position only ever advances to a point below which every record was acknowledged.
 */
import type { LogRecord } from '../event/record.js';

export interface BatchOwner {
  onBatchSettled(batch: AckBatch): void;
}

export class AckBatch {
  /** records handed out and not yet acknowledged */
  pending = 0;
  /** no more records will be added; the batch settles when pending reaches 0 */
  sealed = false;
  settled = false;

  constructor(
    readonly owner: BatchOwner,
    /** position to commit once this batch and every earlier one are acknowledged (byte offset, cursor, ...) */
    public position: number | string,
    /** bytes of input this batch holds against the in-flight budget */
    readonly bytes: number,
  ) {}

  /** Called by the source after it has attached every record; settles at once if none are pending. */
  seal(): void {
    this.sealed = true;
    if (this.pending === 0) this.settle();
  }

  /** @internal */
  settle(): void {
    if (this.settled) return;
    this.settled = true;
    this.owner.onBatchSettled(this);
  }
}

/** Acknowledge one record (stored, duplicate, dead-lettered, or deliberately excluded). */
export function ackRecord(record: LogRecord): void {
  ackInBatch(record.batch);
}

/**
 * Acknowledge one record by its batch: for sinks that keep only each in-flight record's batch (the
 * Elasticsearch sink holds documents as bytes; keeping the record objects alive until the answer costs
 * a fifth of its CPU in garbage collection).
 */
export function ackInBatch(batch: AckBatch): void {
  batch.pending--;
  if (batch.pending === 0 && batch.sealed) batch.settle();
}

/**
 * Releases settled batches in the order they were created and reports the newest committable position.
 * Out-of-order acknowledgements (concurrent bulk requests, retries of some items) never move it early.
 */
export class OrderedAcks<P extends number | string = number> implements BatchOwner {
  private readonly queue: AckBatch[] = [];
  private head = 0;
  private committedPosition: P | undefined;

  constructor(private readonly onCommit: (position: P, releasedBytes: number) => void) {}

  newBatch(position: P, bytes: number): AckBatch {
    const batch = new AckBatch(this, position, bytes);
    this.queue.push(batch);
    return batch;
  }

  get outstanding(): number {
    return this.queue.length - this.head;
  }

  get committed(): P | undefined {
    return this.committedPosition;
  }

  onBatchSettled(): void {
    let released = 0;
    let position: P | undefined;
    while (this.head < this.queue.length && this.queue[this.head].settled) {
      const batch = this.queue[this.head++];
      released += batch.bytes;
      position = batch.position as P;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (position !== undefined) {
      this.committedPosition = position;
      this.onCommit(position, released);
    }
  }
}
