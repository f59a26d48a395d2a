/**
 * The Elasticsearch sink: `_bulk` with `create` and each record's deterministic `_id`, so a record sent
 * twice stays one document (409 = already there = success).
 *
 * Per item: 201 stored; 409 duplicate; 429/5xx retried (only those items) with jittered exponential
 * backoff; other 4xx written to the dead-letter index with the reason. Whole requests that fail
 * (connection refused, 5xx, timeout) are retried without limit; meanwhile no record is acknowledged, so
 * the in-flight budget fills and sources pause — the files stay the buffer.
 */
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { ackRecord } from '../../agent/acks.js';
import { DocumentEncoder, utcDay } from '../../event/document.js';
import type { LogRecord } from '../../event/record.js';
import { emptySinkStats, type Sink, type SinkStats } from '../sink.js';
import type { ElasticsearchConfig } from './config.js';
import { parseServerInfo, templateRequests, type ServerInfo } from './templates.js';
import { Transport } from './transport.js';
import { BufferPool, BulkBatch } from './batch.js';

const gzip = promisify(gzipCallback);

export interface SinkEvents {
  onRequest?(seconds: number, outcome: string): void;
  onError?(message: string, context: Record<string, unknown>): void;
}

interface BulkItem {
  status: number;
  error?: { type?: string; reason?: string };
}

export class ElasticsearchSink implements Sink {
  readonly name = 'elasticsearch';
  private readonly transport: Transport;
  private readonly encoder = new DocumentEncoder();
  private current: BulkBatch;
  private readonly pool: BufferPool;
  private readonly queue: BulkBatch[] = [];
  private inflight = 0;
  private readonly counters: SinkStats = emptySinkStats();
  private written = 0;
  private acknowledged = 0;
  private flushWaiters: Array<{ target: number; resolve: () => void }> = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private server: ServerInfo | undefined;
  private ready = false;
  private closed = false;
  private lastRequestFailed = false;
  private cachedDay = '';
  private cachedActionPrefix = '';

  constructor(
    private readonly config: ElasticsearchConfig,
    private readonly events: SinkEvents = {},
  ) {
    this.transport = new Transport(config);
    this.pool = new BufferPool(config.bulkMaxBytes + 64 * 1024, config.concurrency + 2);
    this.current = this.newBatch();
  }

  /** Room for the byte target plus one large record, so a batch rarely needs a second buffer. */
  private newBatch(attempt = 0, deadLetter = false): BulkBatch {
    return new BulkBatch(this.pool, attempt, deadLetter);
  }

  get serverInfo(): ServerInfo | undefined {
    return this.server;
  }

  /** Detect the server and install templates; if the cluster is not reachable yet, keep trying in the background. */
  async start(): Promise<void> {
    if (await this.prepare()) return;
    this.events.onError?.('Elasticsearch not reachable at start; records wait (bounded) and are sent when it answers', { hosts: this.transport.hostLabels });
    const retry = async (delay: number) => {
      if (this.closed) return;
      if (await this.prepare()) return;
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        void retry(Math.min(delay * 2, this.config.retryMaxDelayMs));
      }, delay);
      this.retryTimers.add(timer);
    };
    void retry(this.config.retryInitialDelayMs);
  }

  private async prepare(): Promise<boolean> {
    const info = await this.transport.request('GET', '/');
    if (info.kind !== 'response' || info.status !== 200) {
      this.lastRequestFailed = true;
      return false;
    }
    this.server = parseServerInfo(JSON.parse(info.body));
    if (this.config.installTemplate) {
      for (const template of templateRequests(this.server, this.config.index, this.config.deadLetterIndex, this.config.dataStream)) {
        const result = await this.transport.request('PUT', template.path, JSON.stringify(template.body), { 'content-type': 'application/json' });
        if (result.kind !== 'response' || result.status >= 500 || result.status === 429) return false; // not ready yet: try again
        if (result.status >= 300) {
          this.events.onError?.('index template rejected', { path: template.path, status: result.status, body: result.body.slice(0, 500) });
        }
      }
    }
    this.lastRequestFailed = false;
    this.ready = true;
    this.pump();
    return true;
  }

  private actionPrefix(timestamp: string): string {
    if (this.config.dataStream !== undefined) {
      if (this.cachedActionPrefix === '') this.cachedActionPrefix = `{"create":{"_index":${JSON.stringify(this.config.dataStream)},"_id":"`;
      return this.cachedActionPrefix;
    }
    const day = timestamp.length >= 10 ? timestamp.slice(0, 10) : timestamp;
    if (day !== this.cachedDay) {
      this.cachedDay = day;
      const type = this.server?.needsType ? ',"_type":"_doc"' : '';
      this.cachedActionPrefix = `{"create":{"_index":"${this.config.index}-${utcDay(timestamp)}"${type},"_id":"`;
    }
    return this.cachedActionPrefix;
  }

  write(records: LogRecord[]): void {
    const maxBytes = this.config.bulkMaxBytes;
    const maxRecords = this.config.bulkMaxRecords;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      // Record ids are [A-Za-z0-9_-] by construction: no escaping needed.
      const action = this.actionPrefix(record.timestamp) + record.id + '"}}\n';
      const line = action + this.encoder.encode(record) + '\n';
      if (!this.current.tryAppend(record, line, action.length)) {
        this.seal();
        this.current.tryAppend(record, line, action.length);
      }
      // The document now lives in the batch buffer; until it is acknowledged the sink needs only the
      // record's id, file, offset and batch. Dropping the rest keeps memory per in-flight record small.
      record.message = '';
      record.json = undefined;
      record.extra = undefined;
      if (this.current.used >= maxBytes || this.current.count >= maxRecords) this.seal();
    }
    this.written += records.length;
    if (this.current.count > 0 && this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.seal();
      }, this.config.flushIntervalMs);
    }
  }

  private seal(): void {
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (this.current.count === 0) return;
    this.queue.push(this.current);
    this.current = this.newBatch();
    this.pump();
  }

  private pump(): void {
    while (this.ready && !this.closed && this.inflight < this.config.concurrency && this.queue.length > 0) {
      const batch = this.queue.shift()!;
      this.inflight++;
      void this.send(batch).then((requeued) => {
        if (requeued !== true) batch.release();
        this.inflight--;
        this.pump();
      });
    }
  }

  private backoff(attempt: number, retryAfter?: string | string[]): number {
    const header = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
    const seconds = header !== undefined ? Number(header) : Number.NaN;
    if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, this.config.retryMaxDelayMs);
    const base = Math.min(this.config.retryMaxDelayMs, this.config.retryInitialDelayMs * 2 ** Math.min(attempt, 20));
    return base / 2 + Math.random() * (base / 2);
  }

  private retryLater(batch: BulkBatch, delayMs: number): true {
    this.counters.retries++;
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.queue.unshift(batch);
      this.pump();
    }, delayMs);
    this.retryTimers.add(timer);
    return true;
  }

  /** Resolves true when the batch itself was queued again (its buffer still in use). */
  private async send(batch: BulkBatch): Promise<boolean | void> {
    const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
    let body = batch.body();
    if (this.config.gzip) {
      body = await gzip(body, { level: 1 });
      headers['content-encoding'] = 'gzip';
    }
    const started = process.hrtime.bigint();
    const result = await this.transport.request('POST', '/_bulk', body, headers, true);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (result.kind === 'error') {
      this.lastRequestFailed = true;
      this.events.onRequest?.(seconds, 'error');
      if (batch.attempt === 0 || batch.attempt % 10 === 0) {
        this.events.onError?.('bulk request failed; retrying', { host: result.host, error: result.error, records: batch.records.length, attempt: batch.attempt });
      }
      batch.attempt++;
      return this.retryLater(batch, this.backoff(batch.attempt));
    }
    this.events.onRequest?.(seconds, String(result.status));
    if (result.status === 429 || result.status >= 500) {
      this.lastRequestFailed = true;
      batch.attempt++;
      return this.retryLater(batch, this.backoff(batch.attempt, result.headers['retry-after']));
    }
    this.lastRequestFailed = false;
    if (result.status === 413 || (result.status === 400 && batch.records.length > 1)) {
      // Too large or unparseable as a whole: split until the offending record stands alone.
      const half = Math.ceil(batch.records.length / 2);
      for (const part of [this.slice(batch, 0, half), this.slice(batch, half, batch.records.length)].reverse()) this.queue.unshift(part);
      return;
    }
    if (result.status >= 300) {
      if (result.status === 401 || result.status === 403) {
        this.events.onError?.('Elasticsearch refused the credentials; retrying', { host: result.host, status: result.status, body: result.bytes.toString('utf8', 0, 300) });
        batch.attempt++;
        return this.retryLater(batch, this.backoff(batch.attempt));
      }
      return this.rejectAll(batch, result.status, { type: 'request_rejected', reason: result.bytes.toString('utf8', 0, 1000) });
    }
    // Fast path: no item failed and none was a duplicate — decided from the first bytes, nothing decoded.
    const errorsAt = result.bytes.indexOf('"errors":false');
    if (errorsAt >= 0 && errorsAt < 64) {
      const outcome = batch.deadLetter ? 'deadLettered' : 'stored';
      for (const record of batch.records) this.acknowledge(record, outcome);
      return;
    }
    let items: Array<Record<string, BulkItem>>;
    try {
      items = (JSON.parse(result.bytes.toString('utf8')) as { items: Array<Record<string, BulkItem>> }).items;
    } catch {
      batch.attempt++;
      return this.retryLater(batch, this.backoff(batch.attempt));
    }
    const retry = this.newBatch(batch.attempt + 1, batch.deadLetter);
    let retryAfter = 0;
    const rejected: Array<[number, BulkItem]> = [];
    for (let i = 0; i < batch.records.length; i++) {
      const item = items[i] ? Object.values(items[i])[0] : undefined;
      const status = item?.status ?? 500;
      if (status === 200 || status === 201) this.acknowledge(batch.records[i], batch.deadLetter ? 'deadLettered' : 'stored');
      else if (status === 409) this.acknowledge(batch.records[i], batch.deadLetter ? 'deadLettered' : 'duplicates');
      else if (status === 429 || status >= 500) {
        if (!retry.copyFrom(batch, i)) throw new Error('a retry batch cannot be smaller than its source');
        retryAfter = Math.max(retryAfter, this.backoff(retry.attempt));
      } else rejected.push([i, item ?? { status }]);
    }
    if (retry.count > 0) this.retryLater(retry, retryAfter);
    else retry.release();
    if (rejected.length > 0) {
      if (batch.deadLetter) {
        for (const [i, item] of rejected) {
          this.events.onError?.('dead-letter document rejected too; record counted as failed', { id: batch.records[i].id, status: item.status, error: item.error });
          this.acknowledge(batch.records[i], 'failed');
        }
      } else {
        this.deadLetter(batch, rejected);
      }
    }
  }

  private slice(batch: BulkBatch, from: number, to: number): BulkBatch {
    const part = this.newBatch(batch.attempt, batch.deadLetter);
    for (let i = from; i < to; i++) part.copyFrom(batch, i);
    return part;
  }

  private rejectAll(batch: BulkBatch, status: number, error: BulkItem['error']): void {
    const items: Array<[number, BulkItem]> = batch.records.map((_, i) => [i, { status, error }]);
    if (batch.deadLetter) for (const [i] of items) this.acknowledge(batch.records[i], 'failed');
    else this.deadLetter(batch, items);
  }

  /** Rejected documents go to `<deadLetterIndex>-YYYY.MM.DD` as strings, with the reason; same `_id`, so replays stay single. */
  private deadLetter(batch: BulkBatch, rejected: Array<[number, BulkItem]>): void {
    const now = new Date().toISOString();
    const index = `${this.config.deadLetterIndex}-${utcDay(now)}`;
    const type = this.server?.needsType ? ',"_type":"_doc"' : '';
    let dead = this.newBatch(0, true);
    for (const [i, item] of rejected) {
      const record = batch.records[i];
      const document = batch.documentAt(i);
      const targetIndex = /"_index":"([^"]*)"/.exec(batch.actionAt(i))?.[1] ?? '';
      const action = `{"create":{"_index":"${index}"${type},"_id":"${record.id}"}}\n`;
      const doc = JSON.stringify({
        '@timestamp': now,
        id: record.id,
        index: targetIndex,
        status: item.status,
        reason: { type: item.error?.type ?? 'unknown', reason: item.error?.reason ?? '' },
        log: { file: { path: record.file.path } },
        document,
      });
      if (!dead.tryAppend(record, action + doc + '\n', action.length)) {
        this.queue.unshift(dead);
        dead = this.newBatch(0, true);
        dead.tryAppend(record, action + doc + '\n', action.length);
      }
      this.events.onError?.('record rejected by Elasticsearch; dead-lettered', {
        index: targetIndex,
        id: record.id,
        file: record.file.path,
        offset: record.offset,
        status: item.status,
        type: item.error?.type,
        reason: item.error?.reason?.slice(0, 300),
      });
    }
    this.queue.unshift(dead);
    this.pump();
  }

  private acknowledge(record: LogRecord, outcome: 'stored' | 'duplicates' | 'deadLettered' | 'failed'): void {
    this.counters[outcome]++;
    this.acknowledged++;
    ackRecord(record);
    if (this.flushWaiters.length > 0) this.settleFlushWaiters();
  }

  private settleFlushWaiters(): void {
    const still: typeof this.flushWaiters = [];
    for (const waiter of this.flushWaiters) {
      if (this.acknowledged >= waiter.target) waiter.resolve();
      else still.push(waiter);
    }
    this.flushWaiters = still;
  }

  flush(): Promise<void> {
    this.seal();
    if (this.acknowledged >= this.written) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push({ target: this.written, resolve }));
  }

  async shutdown(deadlineMs = 25_000): Promise<void> {
    const flushed = this.flush();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([flushed, new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
    if (timer) clearTimeout(timer);
    this.closed = true;
    for (const retryTimer of this.retryTimers) clearTimeout(retryTimer);
    this.retryTimers.clear();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    await this.transport.close();
  }

  stats(): SinkStats {
    return { ...this.counters };
  }

  healthy(): boolean {
    return this.ready && !(this.lastRequestFailed && this.transport.allDead());
  }
}
