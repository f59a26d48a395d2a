/**
 * Which batch goes next, and when: sealed batches wait here until one of the `concurrency` request slots
 * is free, a live host exists, and any backoff after whole-request failures has passed. Batches coming
 * back (retried items, halves of a split, dead letters, a failed request) go in front: their records are
 * older, and the checkpoints wait for the oldest.
 *
 * Also the flush bookkeeping: a sealed batch and everything derived from it share a generation; flush()
 * waits until no generation up to the last sealed one has work left.
 */
import type { BulkBatch } from './batcher.js';
import type { HostSet } from './hosts.js';

export class SendQueue {
  private readonly ready: BulkBatch[] = [];
  private inflight = 0;
  private open = false;
  private closed = false;
  private blockedUntil = 0;
  private resumeTimer: NodeJS.Timeout | undefined;
  private waitingForHost = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly concurrency: number,
    private readonly hosts: HostSet,
    /** sends one batch and deals with the answer; never rejects except on a bug */
    private readonly send: (batch: BulkBatch) => Promise<void>,
    /** a bug in send: the batch must not be lost */
    private readonly onBug: (batch: BulkBatch, error: unknown) => void,
  ) {}

  /** Sending may begin (the cluster is detected and ready). */
  start(): void {
    this.open = true;
    this.pump();
  }

  get waiting(): number {
    return this.ready.length;
  }

  push(batch: BulkBatch): void {
    this.ready.push(batch);
    this.pump();
  }

  /** Ahead of everything waiting, in the order given. */
  front(...batches: BulkBatch[]): void {
    this.ready.unshift(...batches);
    this.pump();
  }

  /** Nothing is sent before `delayMs` from now (backoff after a whole-request failure). */
  block(delayMs: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, Date.now() + delayMs);
  }

  /** In front again after `delayMs`. */
  later(batch: BulkBatch, delayMs: number): void {
    this.after(delayMs, () => this.front(batch));
  }

  /** Run `task` after `delayMs` unless closed by then. */
  after(delayMs: number, task: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) task();
    }, delayMs);
    this.timers.add(timer);
  }

  pump(): void {
    if (!this.open || this.closed) return;
    while (this.inflight < this.concurrency && this.ready.length > 0) {
      const wait = this.blockedUntil - Date.now();
      if (wait > 0) {
        this.resumeTimer ??= setTimeout(() => {
          this.resumeTimer = undefined;
          this.pump();
        }, wait);
        return;
      }
      if (!this.hosts.anyAlive()) {
        if (!this.waitingForHost) {
          this.waitingForHost = true;
          void this.hosts.whenAnyAlive().then(() => {
            this.waitingForHost = false;
            this.pump();
          });
        }
        return;
      }
      const batch = this.ready.shift()!;
      this.inflight++;
      void this.send(batch)
        .catch((error: unknown) => this.onBug(batch, error))
        .finally(() => {
          this.inflight--;
          this.pump();
        });
    }
  }

  /** Stop: nothing more is sent, pending timers are dropped, waiting batches forgotten. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.resumeTimer !== undefined) clearTimeout(this.resumeTimer);
    this.resumeTimer = undefined;
    this.ready.length = 0;
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

export class FlushTracker {
  /** batches not yet finished per generation; Map order is insertion order, so the first key is the oldest */
  private readonly live = new Map<number, number>();
  private lastSealed = 0;
  private waiters: Array<{ generation: number; resolve: () => void }> = [];

  sealed(generation: number): void {
    this.live.set(generation, 1);
    this.lastSealed = generation;
  }

  derived(generation: number): void {
    this.live.set(generation, (this.live.get(generation) ?? 0) + 1);
  }

  finished(generation: number): void {
    const left = (this.live.get(generation) ?? 1) - 1;
    if (left > 0) {
      this.live.set(generation, left);
      return;
    }
    this.live.delete(generation);
    if (this.waiters.length === 0) return;
    const oldest = this.oldest();
    const still: typeof this.waiters = [];
    for (const waiter of this.waiters) {
      if (waiter.generation < oldest) waiter.resolve();
      else still.push(waiter);
    }
    this.waiters = still;
  }

  private oldest(): number {
    for (const generation of this.live.keys()) return generation;
    return Number.POSITIVE_INFINITY;
  }

  /** Resolves when everything sealed so far is finished. */
  wait(): Promise<void> {
    const generation = this.lastSealed;
    if (this.oldest() > generation) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ generation, resolve }));
  }
}
