/**
 * What the sink reports: its options (log callbacks, a metrics hook), its counters, and log lines that
 * stay readable during an outage or a flood of rejections (the first occurrence at once, then at most one
 * line per kind every {@link THROTTLE_MS}, with the number of occurrences in between).
 */
import { emptySinkStats, type SinkStats } from '../sink.js';

/** A minimal metrics hook; the agent maps it onto Prometheus. */
export interface SinkMetrics {
  /** one bulk request: latency, outcome (the HTTP status, or `error` when none came), bytes on the wire */
  observeRequest(seconds: number, outcome: string, bytes: number): void;
}

export interface ElasticsearchSinkOptions {
  /** problems a user should see: failures being retried, rejections, templates refused, hosts down */
  onError?(message: string, context: Record<string, unknown>): void;
  /** facts worth one line: connected (server and version), host back */
  onInfo?(message: string, context: Record<string, unknown>): void;
  /** per bulk request: latency and outcome (the HTTP status or `error`) */
  onRequest?(seconds: number, outcome: string): void;
  metrics?: SinkMetrics;
  /**
   * When the cluster refuses us at start (credentials, a certificate that does not verify): false (the
   * default) = start() rejects, for one-shot runs that should fail at once; true = log it, report it as
   * the sink's unhealthy reason and keep checking until it is fixed (the long-running agent: no crash loop).
   */
  waitWhenRefused?: boolean;
  /**
   * After a start, this many bytes of records are looked up by `_id` before they are sent (replay-check.ts):
   * the agent passes what a restart can read again (its in-flight budget and the records acknowledged since
   * the last checkpoint save). 0 or absent: none.
   */
  replayCheckBytes?: number;
}

export interface ElasticsearchSinkStats extends SinkStats {
  /** bulk requests sent (first attempts and retries) */
  requests: number;
  /** bulk requests that got no usable answer (connection, timeout, 429/5xx as a whole) */
  requestFailures: number;
  /** request bodies on the wire (compressed when gzip is on) */
  bytesSent: number;
  /** the same bodies before compression */
  bytesUncompressed: number;
  /** documents sent again after their item failed (429, 5xx...) */
  itemsRetried: number;
  /** records looked up by `_id` before sending (replays after a restart, or after a request of unknown fate) */
  replayChecked: number;
  /** ... and found stored already (acknowledged as duplicates, not sent) */
  replayFound: number;
  /** records written and not yet acknowledged */
  pendingRecords: number;
  /** NDJSON bytes the sink holds for them */
  pendingBytes: number;
  hosts: number;
  hostsUp: number;
}

export type Outcome = 'stored' | 'duplicates' | 'deadLettered' | 'failed';

const THROTTLE_MS = 30_000;

export class SinkLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly options: ElasticsearchSinkOptions) {}

  static emptyStats(hosts: number): ElasticsearchSinkStats {
    return {
      ...emptySinkStats(),
      requests: 0,
      requestFailures: 0,
      bytesSent: 0,
      bytesUncompressed: 0,
      itemsRetried: 0,
      replayChecked: 0,
      replayFound: 0,
      pendingRecords: 0,
      pendingBytes: 0,
      hosts,
      hostsUp: hosts,
    };
  }

  error(message: string, context: Record<string, unknown>): void {
    this.options.onError?.(message, context);
  }

  info(message: string, context: Record<string, unknown>): void {
    this.options.onInfo?.(message, context);
  }

  /** Log the first of a kind at once, then one per interval carrying how many were not logged. */
  throttled(kind: string, message: string, context: Record<string, unknown>): void {
    if (this.options.onError === undefined) return;
    const now = Date.now();
    const entry = this.last.get(kind);
    if (entry !== undefined && now - entry.at < THROTTLE_MS) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.last.set(kind, { at: now, suppressed: 0 });
    this.options.onError(message, suppressed > 0 ? { ...context, similarSinceLastLine: suppressed } : context);
  }

  request(seconds: number, outcome: string, bytes: number): void {
    this.options.onRequest?.(seconds, outcome);
    this.options.metrics?.observeRequest(seconds, outcome, bytes);
  }
}
