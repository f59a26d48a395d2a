/**
 * Who runs the store's transactions for the sink: a worker thread (the default) or the calling thread.
 *
 * Each shard of the store has its own (shards.ts). On workers, SQLite's work (~18 µs per record, most of
 * it full-text indexing) runs beside the main thread, which reads and parses files (~6 µs per record), and
 * a 20,000-record commit (~350 ms) never stalls the agent's event loop (timers, /metrics, file watching).
 */
import { Worker } from 'node:worker_threads';
import { LocalStore, RowBuffer, StoreError, type SourceDescriptor } from './local-store.js';
import { storePath } from './paths.js';
import { Retention, type RetentionOptions } from './retention.js';

export interface StoreWriter {
  readonly path: string;
  open(): Promise<void>;
  /** one transaction; resolves with the number of new records, rejects with a StoreError */
  commit(rows: RowBuffer, sources: readonly SourceDescriptor[]): Promise<number>;
  /** a retention and maintenance pass, between transactions */
  maintain(): Promise<void>;
  close(): Promise<void>;
}

export interface WriterOptions extends RetentionOptions {
  dataDir: string;
  /** which of the store's shards this writer owns (see shards.ts) */
  shard: number;
  /** retention and maintenance problems (the write path reports its own through commit) */
  onLog: (message: string) => void;
}

/** Error code when the writer thread died: source keys it knew are gone, rows must be encoded again. */
export const WRITER_RESTARTED = 'WRITER_RESTARTED';

export class InProcessWriter implements StoreWriter {
  readonly path: string;
  store: LocalStore | undefined;
  private retention: Retention | undefined;

  constructor(private readonly options: WriterOptions) {
    this.path = storePath(options.dataDir, options.shard);
  }

  async open(): Promise<void> {
    this.store = new LocalStore(this.options.dataDir, { shard: this.options.shard, now: this.options.now });
    this.retention = new Retention(this.store, this.options);
  }

  async commit(rows: RowBuffer, sources: readonly SourceDescriptor[]): Promise<number> {
    if (this.store === undefined || this.retention === undefined) throw new StoreError(`local store ${this.path} is not open`, 'CLOSED', this.path);
    let inserted: number;
    try {
      inserted = this.store.insert(rows, sources);
    } finally {
      RowBuffer.recycle(rows.numbers, rows.text);
    }
    // Between write transactions: keep the store within its limits by about as much as was just written.
    this.retention.afterCommit(inserted, this.options.onLog);
    return inserted;
  }

  async maintain(): Promise<void> {
    this.retention?.pass(this.options.onLog);
  }

  async close(): Promise<void> {
    this.store?.close();
    this.store = undefined;
  }
}

type Buffers = { numbers: Float64Array; text: Uint8Array };
type Reply =
  | { op: 'done'; id: number; result?: number; buffers?: Buffers }
  | { op: 'failed'; id: number; message: string; code?: string; buffers?: Buffers }
  | { op: 'log'; message: string };

/** The writer on a worker thread (worker.ts), one request at a time in order. */
export class WorkerWriter implements StoreWriter {
  readonly path: string;
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: number) => void; reject: (error: Error) => void }>();
  private closing = false;

  constructor(private readonly options: WriterOptions) {
    this.path = storePath(options.dataDir, options.shard);
    if (options.now !== undefined)
      throw new Error('an injected clock (now) needs the writer on this thread (worker: false): a function cannot cross to a worker');
  }

  async open(): Promise<void> {
    const worker = new Worker(new URL('./worker.js', import.meta.url), {
      // The thread holds one batch at a time (a few MB); without limits V8 lets its heap grow to the
      // main thread's size (measured 65 MB, 45 MB with these).
      resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 16 },
      workerData: { dataDir: this.options.dataDir, shard: this.options.shard, retentionDays: this.options.retentionDays, maxBytes: this.options.maxBytes },
    });
    this.worker = worker;
    worker.on('message', (reply: Reply) => this.onReply(reply));
    worker.on('error', (error) => this.onExit(`the store's writer thread failed: ${error.message}`));
    worker.on('exit', (code) => this.onExit(`the store's writer thread exited (${code})`));
    try {
      await this.request({ op: 'open' });
    } catch (error) {
      this.worker = undefined;
      await worker.terminate();
      // Requests sent meanwhile (a close) would wait for a thread that is gone.
      const waiters = [...this.pending.values()];
      this.pending.clear();
      for (const waiter of waiters)
        waiter.reject(new StoreError(`the store's writer thread did not open: ${(error as Error).message}`, WRITER_RESTARTED, this.path));
      throw error;
    }
  }

  private onReply(reply: Reply): void {
    if (reply.op === 'log') return this.options.onLog(reply.message);
    if (reply.buffers !== undefined) RowBuffer.recycle(reply.buffers.numbers, reply.buffers.text);
    const waiter = this.pending.get(reply.id);
    if (waiter === undefined) return;
    this.pending.delete(reply.id);
    if (reply.op === 'done') waiter.resolve(reply.result ?? 0);
    else waiter.reject(new StoreError(reply.message, reply.code, this.path));
  }

  private onExit(message: string): void {
    if (this.worker === undefined) return;
    this.worker = undefined;
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const waiter of waiters)
      waiter.reject(new StoreError(this.closing ? message : `${message}; it is restarted for the next batch`, WRITER_RESTARTED, this.path));
  }

  private request(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<number> {
    const worker = this.worker;
    if (worker === undefined) return Promise.reject(new StoreError(`the store's writer thread is not running (${this.path})`, WRITER_RESTARTED, this.path));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id }, transfer);
    });
  }

  async commit(rows: RowBuffer, sources: readonly SourceDescriptor[]): Promise<number> {
    if (this.worker === undefined && !this.closing) await this.open();
    // The row buffers move to the writer thread (no copy); the sink keeps the records, not the rows.
    const { count, numbers, text, words } = rows;
    return this.request({ op: 'commit', rows: { count, numbers, text, words }, sources }, rows.transferList());
  }

  async maintain(): Promise<void> {
    if (this.worker !== undefined) await this.request({ op: 'maintain' });
  }

  async close(): Promise<void> {
    this.closing = true;
    const worker = this.worker;
    if (worker === undefined) return;
    try {
      await this.request({ op: 'close' });
    } finally {
      this.worker = undefined;
      await worker.terminate();
    }
  }
}
