/**
 * The Elasticsearch sink: `_bulk` with `create` and each record's deterministic `_id`, so a record sent
 * twice stays one document (409 = already there = success).
 *
 * Per item: 201 stored; 409 duplicate; 429/5xx (and cluster states such as a read-only index) retried —
 * only those items — with jittered exponential backoff; other 4xx written to the dead-letter index with
 * the reason. Whole requests that fail (connection refused, 5xx, timeout) are retried without limit;
 * meanwhile no record is acknowledged, so the pipeline's in-flight budget fills and sources pause: the
 * files stay the buffer and the sink holds at most that budget's worth of documents.
 */
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { ackInBatch, type AckBatch } from '../../agent/acks.js';
import { DocumentEncoder, utcDay } from '../../event/document.js';
import type { MetricFamily } from '../../core/metrics.js';
import type { LogRecord } from '../../event/record.js';
import { type Sink, type SinkStats } from '../sink.js';
import { BufferPool, BulkBatch, packLines } from './batcher.js';
import type { ElasticsearchConfig } from './config.js';
import { actionIndex, deadLetterLine, recordInfo, refusedLetterContext, rejectionSummary } from './dead-letter.js';
import { BULK_FILTER_PATH, bulkAllCreated, itemVerdict, parseBulkItems, requestVerdict, retryDelayMs, type BulkItemResult } from './retry.js';
import { actionId, lookupStored, lookupTarget } from './replay-check.js';
import { describeServer, type ServerInfo } from './server-info.js';
import { SinkLog, type ElasticsearchSinkOptions, type ElasticsearchSinkStats, type Outcome } from './sink-support.js';
import { FlushTracker, SendQueue } from './send-queue.js';
import { credentialsHint, prepareCluster, type StartupOutcome } from './startup.js';
import { Transport } from './transport.js';
import { elasticsearchMetrics, failureReason, FailureReasons } from './metrics.js';

export type { ElasticsearchSinkOptions, ElasticsearchSinkStats, SinkMetrics } from './sink-support.js';

const gzip = promisify(gzipCallback);

/** `error.reason` of an Elasticsearch error answer (`{"error":{"reason":...}}`), else undefined. */
function errorReason(answer: Buffer): string | undefined {
  try {
    const error = (JSON.parse(answer.toString('utf8', 0, 4096)) as { error?: { reason?: unknown } | string }).error;
    const reason = typeof error === 'string' ? error : error?.reason;
    return typeof reason === 'string' ? reason : undefined;
  } catch {
    return undefined;
  }
}
const BULK_PATH = `/_bulk?${BULK_FILTER_PATH}`;
const PLAIN_HEADERS = { 'content-type': 'application/x-ndjson' };
const GZIP_HEADERS = { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' };
/** Ids are base64url-like by construction; anything else is escaped rather than trusted. */
const UNSAFE_ID = /[^A-Za-z0-9_.:+=/-]/;
/** Whole-request failures in a row after which the sink reports itself unhealthy even with hosts up. */
const UNHEALTHY_AFTER_FAILURES = 3;

export class ElasticsearchSink implements Sink {
  readonly name = 'elasticsearch';
  private readonly transport: Transport;
  private readonly encoder = new DocumentEncoder();
  private readonly pool: BufferPool;
  private readonly log: SinkLog;
  private current: BulkBatch;
  private readonly queue: SendQueue;
  private readonly flushes = new FlushTracker();
  private readonly counters: ElasticsearchSinkStats;
  private readonly failureReasons = new FailureReasons();
  private readonly refusals = new FailureReasons();
  private readonly waitWhenRefused: boolean;
  private state: 'new' | 'starting' | 'ready' | 'closed' = 'new';
  private server: ServerInfo | undefined;
  /** a configuration problem found by talking to the cluster (credentials, TLS, data streams) */
  private problem: string | undefined;
  private requestFailuresInRow = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private generations = 0;
  private cachedDay = '\u0000';
  private cachedPrefix = '';
  private readonly streamPrefix: string | undefined;
  /** bytes of records still to look up before sending, after a start (replay-check.ts) */
  private replayCheckLeft: number;
  private readonly lookupTarget: string;

  constructor(
    private readonly config: ElasticsearchConfig,
    options: ElasticsearchSinkOptions = {},
  ) {
    this.log = new SinkLog(options);
    this.waitWhenRefused = options.waitWhenRefused ?? false;
    this.transport = new Transport(config, {
      onDown: (host, reason) => this.log.error('Elasticsearch host down; others are used, it is probed until it answers', { host, error: reason }),
      onUp: (host) => this.log.info('Elasticsearch host answers again', { host }),
    });
    this.queue = new SendQueue(
      config.concurrency,
      this.transport.hostSet,
      (batch) => this.send(batch),
      (batch, error) => {
        // A bug, not a server answer: keep the records (they are sent again) and say so.
        this.log.error('internal error sending a bulk request; retrying', { error: String((error as Error)?.stack ?? error) });
        this.queue.later(batch, retryDelayMs(++batch.attempt, this.policy()));
      },
    );
    this.pool = new BufferPool(config.bulkMaxBytes, config.concurrency + 2);
    this.current = this.newBatch();
    this.counters = SinkLog.emptyStats(config.hosts.length);
    this.streamPrefix = config.dataStream !== undefined ? `{"create":{"_index":"${config.dataStream}","_id":"` : undefined;
    this.replayCheckLeft = options.replayCheckBytes ?? 0;
    this.lookupTarget = lookupTarget(config);
  }

  get serverInfo(): ServerInfo | undefined {
    return this.server;
  }

  /**
   * Detect the server and install templates. Rejects on a configuration problem (credentials, TLS, no
   * data streams); if the cluster does not answer yet, resolves and keeps trying in the background while
   * records wait (bounded by the pipeline's budget).
   */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'starting';
    const outcome = await prepareCluster(this.transport, this.config);
    if (outcome.kind === 'fatal' && outcome.refused === true && this.waitWhenRefused) {
      this.refused(outcome);
      this.prepareLater(1);
      return;
    }
    if (outcome.kind === 'fatal') {
      this.problem = outcome.reason;
      await this.close(true);
      throw new Error(outcome.reason);
    }
    if (outcome.kind === 'ready') return this.becomeReady(outcome.server, outcome.notes);
    this.log.error('Elasticsearch not ready at start; records wait (bounded) and are sent when it is', {
      hosts: this.transport.hostLabels,
      reason: outcome.reason,
    });
    this.prepareLater(1);
  }

  private prepareLater(attempt: number): void {
    this.queue.after(retryDelayMs(attempt, this.policy()), () => {
      void prepareCluster(this.transport, this.config).then((outcome) => {
        if (this.state === 'closed') return;
        if (outcome.kind === 'ready') return this.becomeReady(outcome.server, outcome.notes);
        if (outcome.kind === 'fatal') this.refused(outcome);
        this.prepareLater(attempt + 1);
      });
    });
  }

  /**
   * The cluster cannot be used as configured (refused credentials, an unverified certificate...): the
   * sink's unhealthy reason (so /readyz says it), counted, and one line per {@link SinkLog} interval —
   * not a line per check. Records wait, bounded by the pipeline's budget.
   */
  private refused(outcome: Extract<StartupOutcome, { kind: 'fatal' }>): void {
    this.problem = outcome.reason;
    if (outcome.label !== undefined) this.refusals.add(outcome.label);
    this.log.throttled('startup', 'Elasticsearch cannot be used as configured; records wait until this is fixed', { reason: outcome.reason });
  }

  /**
   * A 401/403 on a bulk request or item: the credentials are wrong, or lack the privileges to write the
   * target. Retried (a role can be granted, a secret rotated; the files are the buffer), but reported as
   * what it is — the sink's unhealthy reason and its own log line — not as an outage.
   */
  private permissionProblem(host: string, status: number, detail: string | undefined): void {
    const target = this.config.dataStream ?? `${this.config.index}-*`;
    const who = this.config.authFrom ?? 'anonymous requests (no credentials configured)';
    const why = detail !== undefined && detail !== '' ? `: ${detail.slice(0, 300)}` : '';
    const opensearch = this.server?.distribution === 'opensearch';
    const product = opensearch ? 'OpenSearch' : 'Elasticsearch';
    // The privilege names differ: Elasticsearch's index privileges, OpenSearch's action groups.
    const grant = opensearch
      ? `map its user to a role allowing indices:data/write/bulk* and indices:admin/create (action groups crud and create_index) on ${target}`
      : `grant its role create_doc and create_index (or auto_configure) on ${target}`;
    this.problem =
      status === 401
        ? `${product} at ${host} refused the credentials (HTTP 401${why}): ${credentialsHint(this.config)}`
        : `${product} at ${host} does not allow ${who} to write to ${target} (HTTP 403${why}): ${grant}, or configure other credentials`;
    this.log.throttled('permission', `${product} refused to store records; they wait (bounded) until this is fixed`, { reason: this.problem });
  }

  private becomeReady(server: ServerInfo, notes: string[]): void {
    if (this.state === 'closed') return;
    this.server = server;
    this.problem = undefined;
    this.state = 'ready';
    // Action lines made before the server was known assumed no `_type`; from now on they follow it.
    this.cachedDay = '\u0000';
    for (const note of notes) this.log.error(note, {});
    this.log.info('connected to Elasticsearch', {
      server: describeServer(server),
      hosts: this.transport.hostLabels,
      target: this.config.dataStream ?? `${this.config.index}-YYYY.MM.DD`,
    });
    this.queue.start();
  }

  private policy() {
    return { initialDelayMs: this.config.retryInitialDelayMs, maxDelayMs: this.config.retryMaxDelayMs };
  }

  private newBatch(): BulkBatch {
    return new BulkBatch(this.pool, 0, ++this.generations);
  }

  private derived(from: BulkBatch, capacity: number, attempt: number, deadLetter = from.deadLetter): BulkBatch {
    this.flushes.derived(from.generation);
    return new BulkBatch(undefined, capacity, from.generation, attempt, deadLetter);
  }

  /** `{"create":{"_index":"logstash-2026.11.24","_id":"` for the record's own UTC day, cached per day. */
  private actionPrefix(timestamp: string): string {
    if (this.streamPrefix !== undefined) return this.streamPrefix;
    const utc = timestamp.length >= 20 && timestamp.charCodeAt(timestamp.length - 1) === 90;
    if (utc && timestamp.startsWith(this.cachedDay)) return this.cachedPrefix;
    const type = this.server?.needsType === true ? ',"_type":"_doc"' : '';
    const prefix = `{"create":{"_index":"${this.config.index}-${utcDay(timestamp)}"${type},"_id":"`;
    if (utc) {
      this.cachedDay = timestamp.slice(0, 10);
      this.cachedPrefix = prefix;
    }
    return prefix;
  }

  write(records: LogRecord[]): void {
    if (this.state === 'closed') {
      // Not acknowledged: their checkpoints stay put and they are read again after a restart.
      this.log.throttled('closed', 'records written after shutdown are not sent', { records: records.length });
      return;
    }
    const maxBytes = this.config.bulkMaxBytes;
    const maxRecords = this.config.bulkMaxRecords;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      const id = UNSAFE_ID.test(record.id) ? JSON.stringify(record.id).slice(1, -1) : record.id;
      const action = this.actionPrefix(record.timestamp) + id + '"}}\n';
      const document = this.encoder.encode(record);
      const before = this.current.used;
      if (!this.current.tryAppend(record.batch, action, document)) {
        this.seal();
        this.current.tryAppend(record.batch, action, document);
        this.counters.pendingBytes += this.current.used;
      } else {
        this.counters.pendingBytes += this.current.used - before;
      }
      if (this.current.used >= maxBytes || this.current.count >= maxRecords) this.seal();
    }
    this.counters.pendingRecords += records.length;
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
    const batch = this.current;
    this.current = this.newBatch();
    if (this.replayCheckLeft > 0) {
      batch.verify = true;
      this.replayCheckLeft -= batch.used;
    }
    this.flushes.sealed(batch.generation);
    this.queue.push(batch);
  }

  private async send(batch: BulkBatch): Promise<void> {
    if (batch.verify && !batch.deadLetter) return this.sendUnstored(batch);
    let body = batch.body();
    if (this.config.gzip) {
      batch.compressed ??= await gzip(body, { level: this.config.gzipLevel });
      body = batch.compressed;
    }
    const host = this.transport.hostSet.pickAny();
    const started = process.hrtime.bigint();
    const result = await this.transport.requestTo(host, 'POST', BULK_PATH, body, this.config.gzip ? GZIP_HEADERS : PLAIN_HEADERS, true);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.counters.requests++;
    this.counters.bytesSent += body.length;
    this.counters.bytesUncompressed += batch.used;
    this.log.request(seconds, result.kind === 'error' ? 'error' : String(result.status), body.length);
    if (result.kind === 'error') {
      if (result.tls) this.problem = `TLS: ${result.error}`;
      // Sent, maybe stored, no answer: after a rollover the same `create` would land in the new write index.
      if (this.streamPrefix !== undefined && (result.problem === 'response-timeout' || result.problem === 'reset')) batch.verify = true;
      return this.requestFailed(batch, result.error, result.host, undefined, failureReason(result));
    }
    const verdict = requestVerdict(result.status);
    if (verdict === 'retry') {
      const refused = result.status === 401 || result.status === 403;
      if (refused) this.permissionProblem(result.host, result.status, errorReason(result.bytes));
      // A 5xx (a proxy's 502/504 after forwarding, a node failing mid-request) says nothing of what was stored.
      if (this.streamPrefix !== undefined && result.status >= 500) batch.verify = true;
      return this.requestFailed(
        batch,
        `HTTP ${result.status}: ${result.bytes.toString('utf8', 0, 300)}`,
        result.host,
        result.headers['retry-after'],
        failureReason(result),
        refused,
      );
    }
    this.requestFailuresInRow = 0;
    this.problem = undefined;
    if (verdict === 'split') return this.split(batch, result.status, result.bytes);
    this.handleItems(batch, result.bytes, result.headers['retry-after'], result.host);
  }

  /**
   * Look the batch's records up by `_id` across the target's indices; acknowledge those found as
   * duplicates and send the rest (replay-check.ts says when and why).
   */
  private async sendUnstored(batch: BulkBatch): Promise<void> {
    const ids: string[] = [];
    for (let i = 0; i < batch.count; i++) ids.push(actionId(batch.actionAt(i)) ?? '');
    const lookup = await lookupStored(this.transport, this.lookupTarget, ids);
    if (lookup.kind === 'retry') {
      // As a failed request: the batch waits (a backoff), still to be looked up.
      return this.requestFailed(batch, `looking up replayed records: ${lookup.reason}`, lookup.host, undefined, lookup.failure);
    }
    batch.verify = false;
    this.counters.replayChecked += batch.count;
    if (lookup.kind === 'forbidden') {
      this.log.throttled(
        'replay-lookup',
        'cannot look up replayed records by _id; sending them (a replay after a rollover or UTC midnight may be stored twice)',
        {
          target: this.lookupTarget,
          reason: lookup.reason,
        },
      );
      return this.send(batch);
    }
    if (lookup.ids.size === 0) return this.send(batch);
    let restBytes = 0;
    const rest: number[] = [];
    for (let i = 0; i < batch.count; i++) {
      if (lookup.ids.has(ids[i])) {
        this.counters.replayFound++;
        this.ack(batch.acks[i], 'duplicates');
      } else {
        rest.push(i);
        restBytes += batch.lineBytes(i);
      }
    }
    if (rest.length > 0) {
      const unstored = this.derived(batch, restBytes, batch.attempt);
      for (const i of rest) this.copyInto(unstored, batch, i);
      this.queue.front(unstored);
    }
    this.finish(batch);
  }

  /** The whole request failed: send the same batch again, at once on another live host, else after a backoff. */
  private requestFailed(
    batch: BulkBatch,
    error: string,
    host: string,
    retryAfter: string | string[] | undefined,
    reason: string,
    /** already reported in a line of its own (a refusal) */
    reported = false,
  ): void {
    this.requestFailuresInRow++;
    this.counters.requestFailures++;
    this.failureReasons.add(reason);
    if (this.state === 'closed') return;
    this.counters.retries++;
    batch.attempt++;
    const failover = retryAfter === undefined && this.transport.hostSet.anyAlive() && this.requestFailuresInRow < this.config.hosts.length;
    const delay = failover ? 0 : retryDelayMs(this.requestFailuresInRow, this.policy(), retryAfter);
    if (!reported)
      this.log.throttled('request', 'bulk request failed; retrying (records wait, sources pause once the in-flight budget is spent)', {
        host,
        error,
        records: batch.count,
        attempt: batch.attempt,
        retryInMs: delay,
        hostsUp: this.transport.hostSet.aliveCount(),
      });
    this.queue.block(delay);
    this.queue.front(batch);
  }

  /** The body as a whole was refused (400, 413): halve it until the offending record stands alone. */
  private split(batch: BulkBatch, status: number, answer: Buffer): void {
    if (batch.count > 1) {
      const half = Math.ceil(batch.count / 2);
      const parts = [
        this.derived(batch, this.spanBytes(batch, 0, half), batch.attempt),
        this.derived(batch, this.spanBytes(batch, half, batch.count), batch.attempt),
      ];
      for (let i = 0; i < batch.count; i++) this.copyInto(parts[i < half ? 0 : 1], batch, i);
      this.queue.front(...parts);
    } else {
      let error: { type?: string; reason?: string } | undefined;
      try {
        error = (JSON.parse(answer.toString('utf8')) as { error?: { type?: string; reason?: string } }).error;
      } catch {
        error = undefined;
      }
      const rejection: BulkItemResult = {
        status,
        type: error?.type ?? (status === 413 ? 'request_too_large' : 'request_rejected'),
        reason: error?.reason ?? answer.toString('utf8', 0, 500),
      };
      this.reject(batch, [0], [rejection]);
    }
    this.finish(batch);
  }

  private spanBytes(batch: BulkBatch, from: number, to: number): number {
    let bytes = 0;
    for (let i = from; i < to; i++) bytes += batch.lineBytes(i);
    return bytes;
  }

  /** Derived batches are sized from their sources' lines, so a copy always fits. */
  private copyInto(target: BulkBatch, source: BulkBatch, i: number): void {
    if (!target.copyFrom(source, i)) throw new Error('derived batch sized too small');
    this.counters.pendingBytes += source.lineBytes(i);
  }

  private handleItems(batch: BulkBatch, answer: Buffer, retryAfter: string | string[] | undefined, host: string): void {
    const stored: Outcome = batch.deadLetter ? 'deadLettered' : 'stored';
    if (bulkAllCreated(answer)) {
      for (let i = 0; i < batch.count; i++) this.ack(batch.acks[i], stored);
      return this.finish(batch);
    }
    const items = parseBulkItems(answer);
    if (items === undefined) return this.requestFailed(batch, `unreadable bulk answer: ${answer.toString('utf8', 0, 200)}`, '', undefined, 'unreadable_answer');
    let retryIndexes: number[] | undefined;
    let retryBytes = 0;
    let rejectIndexes: number[] | undefined;
    let rejections: BulkItemResult[] | undefined;
    for (let i = 0; i < batch.count; i++) {
      const item = items[i] ?? { status: 500, reason: 'the bulk answer has no item for this document' };
      const verdict = itemVerdict(item.status, item.type);
      if (verdict === 'stored') this.ack(batch.acks[i], stored);
      else if (verdict === 'duplicate') this.ack(batch.acks[i], batch.deadLetter ? 'deadLettered' : 'duplicates');
      else if (verdict === 'retry' && (item.status === 401 || item.status === 403)) {
        (retryIndexes ??= []).push(i);
        retryBytes += batch.lineBytes(i);
        this.permissionProblem(host, item.status, item.reason);
      } else if (verdict === 'retry') {
        (retryIndexes ??= []).push(i);
        retryBytes += batch.lineBytes(i);
        this.log.throttled('item', 'bulk items not stored yet; retrying them', {
          status: item.status,
          type: item.type,
          reason: item.reason?.slice(0, 300),
          attempt: batch.attempt + 1,
        });
      } else {
        (rejectIndexes ??= []).push(i);
        (rejections ??= []).push(item);
      }
    }
    if (retryIndexes !== undefined && this.state !== 'closed') {
      const retry = this.derived(batch, retryBytes, batch.attempt + 1);
      for (const i of retryIndexes) this.copyInto(retry, batch, i);
      this.counters.retries++;
      this.counters.itemsRetried += retry.count;
      this.queue.later(retry, retryDelayMs(retry.attempt, this.policy(), retryAfter));
    }
    if (rejectIndexes !== undefined) this.reject(batch, rejectIndexes, rejections!);
    this.finish(batch);
  }

  /**
   * Records refused for what they are: to the dead-letter index (as strings, with the reason); a dead
   * letter refused in turn is counted as failed, logged and acknowledged — never retried forever.
   */
  private reject(batch: BulkBatch, indexes: number[], rejections: BulkItemResult[]): void {
    if (batch.deadLetter) {
      for (let k = 0; k < indexes.length; k++) {
        const i = indexes[k];
        this.log.error('dead letter refused too; record counted as failed', {
          ...refusedLetterContext(batch.actionAt(i), batch.documentAt(i)),
          reason: rejectionSummary(rejections[k], actionIndex(batch.actionAt(i))),
        });
        this.ack(batch.acks[i], 'failed');
      }
      return;
    }
    if (this.state === 'closed') return;
    const now = new Date().toISOString();
    const lines = indexes.map((i, k) => {
      const action = batch.actionAt(i);
      const document = batch.documentAt(i);
      const record = recordInfo(action, document);
      const target = actionIndex(action);
      this.log.throttled('rejected', 'record rejected by Elasticsearch; written to the dead-letter index', {
        index: target,
        id: record.id,
        file: record.path,
        offset: record.offset,
        reason: rejectionSummary(rejections[k], target).slice(0, 500),
      });
      return deadLetterLine(this.config.deadLetterIndex, record, document, target, rejections[k], now, this.server?.needsType === true);
    });
    const acks = indexes.map((i) => batch.acks[i]);
    const batches = packLines(lines, acks, this.config.bulkMaxBytes, (capacity) => this.derived(batch, capacity, 0, true));
    for (const dead of batches) this.counters.pendingBytes += dead.used;
    this.queue.front(...batches);
  }

  /** A batch is answered (its records acknowledged or moved to derived batches). */
  private finish(batch: BulkBatch): void {
    this.counters.pendingBytes -= batch.used;
    batch.release();
    this.flushes.finished(batch.generation);
  }

  /** Acknowledge one record through its batch (the sink keeps nothing else of it; see batcher.ts). */
  private ack(batch: AckBatch, outcome: Outcome): void {
    this.counters[outcome]++;
    this.counters.pendingRecords--;
    ackInBatch(batch);
  }

  /** Resolves when every record written before the call is acknowledged. */
  flush(): Promise<void> {
    this.seal();
    return this.flushes.wait();
  }

  /**
   * Flush, waiting at most `deadlineMs`; then stop. Records not acknowledged by then stay unacknowledged:
   * their checkpoints do not move and they are read again after a restart (their ids keep them single).
   */
  async shutdown(deadlineMs = 25_000): Promise<void> {
    if (this.state === 'closed') return;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([this.flush().then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), deadlineMs)))]);
    clearTimeout(timer);
    if (!done) {
      this.log.error('shutdown deadline passed with records not acknowledged; they are read again after a restart', {
        records: this.counters.pendingRecords,
        deadlineMs,
      });
    }
    await this.close(!done);
  }

  private async close(abort: boolean): Promise<void> {
    this.state = 'closed';
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.queue.close();
    await this.transport.close(abort);
  }

  stats(): SinkStats {
    const { stored, duplicates, deadLettered, failed, retries } = this.counters;
    return { stored, duplicates, deadLettered, failed, retries };
  }

  /** Everything the sink counts, for metrics and benchmarks. */
  elasticsearchStats(): ElasticsearchSinkStats {
    return { ...this.counters, hostsUp: this.transport.hostSet.aliveCount() };
  }

  describeMetrics(): MetricFamily[] {
    return elasticsearchMetrics(() => this.elasticsearchStats(), this.failureReasons, this.refusals);
  }

  /** Why the sink is not healthy, or undefined when it is. */
  unhealthyReason(): string | undefined {
    if (this.problem !== undefined) return this.problem;
    // With the hosts' own errors (refused, timeout, ...): "not reached" alone does not say what to fix.
    const errors = this.transport.hostSet.hosts
      .filter((h) => h.lastError !== undefined)
      .map((h) => (h.lastError!.startsWith(h.label) ? h.lastError! : `${h.label}: ${h.lastError}`));
    const detail = errors.length > 0 ? ` (${errors.join('; ')})` : '';
    if (this.state !== 'ready') return this.state === 'closed' ? 'shut down' : `Elasticsearch not reached yet${detail}`;
    if (!this.transport.hostSet.anyAlive()) return `no Elasticsearch host answers${detail || ` (${this.transport.hostLabels.join(', ')})`}`;
    if (this.requestFailuresInRow >= UNHEALTHY_AFTER_FAILURES) return `the last ${this.requestFailuresInRow} bulk requests failed`;
    return undefined;
  }

  healthy(): boolean {
    return this.unhealthyReason() === undefined;
  }
}
