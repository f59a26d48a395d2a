/**
 * The local store as a sink: records are inserted in one transaction per batch and acknowledged only
 * after COMMIT. On a full disk or a damaged file nothing is acknowledged (checkpoints stay where they
 * were), the error is reported once per episode, and the batch is retried with backoff.
 */
import { ackRecord } from '../agent/acks.js';
import { DocumentEncoder } from '../event/document.js';
import type { LogRecord, Metadata } from '../event/record.js';
import { emptySinkStats, type Sink, type SinkStats } from '../sinks/sink.js';
import { LocalStore, timestampMicros, type StoredRow } from './local-store.js';

export interface LocalStoreSinkOptions {
  dataDir: string;
  retentionDays: number;
  maxBytes: number;
  /** records per transaction */
  batchRecords?: number;
  flushIntervalMs?: number;
  retentionIntervalMs?: number;
  onError?: (message: string, context: Record<string, unknown>) => void;
}

export class LocalStoreSink implements Sink {
  readonly name = 'local-store';
  private store: LocalStore | undefined;
  private readonly encoder = new DocumentEncoder();
  private readonly labelsJson = new WeakMap<Metadata, string | null>();
  private pendingRows: StoredRow[] = [];
  private pendingRecords: LogRecord[] = [];
  private readonly counters: SinkStats = emptySinkStats();
  private flushTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private failing = false;
  private retryDelayMs = 100;
  private flushWaiters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly options: LocalStoreSinkOptions) {}

  get localStore(): LocalStore | undefined {
    return this.store;
  }

  async start(): Promise<void> {
    this.store = new LocalStore(this.options.dataDir);
    this.retentionTimer = setInterval(() => this.enforceRetention(), this.options.retentionIntervalMs ?? 5000);
    this.retentionTimer.unref();
  }

  private labels(meta: Metadata): string | null {
    let json = this.labelsJson.get(meta);
    if (json === undefined) {
      json = meta.fields.labels ? JSON.stringify(meta.fields.labels) : null;
      this.labelsJson.set(meta, json);
    }
    return json;
  }

  write(records: LogRecord[]): void {
    for (const record of records) {
      const fields = record.meta.fields;
      this.pendingRows.push({
        id: record.id,
        ts: timestampMicros(record.timestamp),
        namespace: fields.namespace ?? null,
        pod: fields.podName ?? null,
        container: fields.containerName ?? null,
        node: fields.nodeName ?? null,
        level: record.level ?? null,
        stream: record.stream ?? null,
        service: fields.serviceName ?? null,
        labels: this.labels(record.meta),
        message: record.message,
        doc: this.encoder.encode(record),
      });
      this.pendingRecords.push(record);
    }
    if (this.pendingRows.length >= (this.options.batchRecords ?? 20_000)) this.commit();
    else this.schedule(this.options.flushIntervalMs ?? 100);
  }

  private schedule(delayMs: number): void {
    if (this.flushTimer === undefined && !this.closed) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.commit();
      }, delayMs);
    }
  }

  private commit(): void {
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (this.pendingRows.length === 0 || this.store === undefined) return this.wakeFlushWaiters();
    const rows = this.pendingRows;
    const records = this.pendingRecords;
    let inserted: number;
    try {
      inserted = this.store.insert(rows);
    } catch (error) {
      if (!this.failing) this.options.onError?.((error as Error).message, { store: this.store.path, records: rows.length });
      this.failing = true;
      this.counters.retries++;
      this.retryDelayMs = Math.min(this.retryDelayMs * 2, 30_000);
      this.schedule(this.retryDelayMs);
      return;
    }
    if (this.failing) this.options.onError?.('local store writable again', { store: this.store.path });
    this.failing = false;
    this.retryDelayMs = 100;
    this.pendingRows = [];
    this.pendingRecords = [];
    this.counters.stored += inserted;
    this.counters.duplicates += rows.length - inserted;
    for (const record of records) ackRecord(record);
    this.wakeFlushWaiters();
  }

  private wakeFlushWaiters(): void {
    if (this.pendingRows.length > 0) return;
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Small steps so a big deletion never holds the write lock for long (about 50 ms per pass). */
  private enforceRetention(): void {
    const store = this.store;
    if (store === undefined || this.failing) return;
    const cutoff = (Date.now() - this.options.retentionDays * 86_400_000) * 1000;
    const deadline = Date.now() + 50;
    const step = 2000;
    try {
      let deleted = 0;
      while (Date.now() < deadline) {
        const n = store.deleteOlderThan(cutoff, step);
        deleted += n;
        if (n < step) break;
      }
      let excess = Date.now() < deadline ? store.rowsOverSize(this.options.maxBytes) : 0;
      while (excess > 0 && Date.now() < deadline) {
        const n = store.deleteOldest(Math.min(step, excess));
        deleted += n;
        excess -= n;
        if (n === 0) break;
      }
      if (deleted > 0) store.reclaim();
      store.checkpointWal();
    } catch (error) {
      this.options.onError?.((error as Error).message, { store: store.path });
    }
  }

  flush(): Promise<void> {
    this.commit();
    if (this.pendingRows.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  async shutdown(deadlineMs = 25_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
    if (timer) clearTimeout(timer);
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.store?.close();
  }

  stats(): SinkStats {
    return { ...this.counters };
  }

  healthy(): boolean {
    return this.store !== undefined && !this.failing;
  }

  /** For tests: run one retention pass now. */
  runRetention(): void {
    this.enforceRetention();
  }
}
