/**
 * The one interface every output implements (Elasticsearch, local store, stdout, null).
 *
 * `write` takes ownership of the records; the sink calls `ackRecord` once for each record when it is
 * stored, already stored (duplicate) or dead-lettered. A sink never drops a record without acknowledging
 * and counting it; whole-request failures are retried until they succeed or the sink is shut down.
 */
import type { MetricFamily } from '../core/metrics.js';
import type { LogRecord } from '../event/record.js';

export interface SinkStats {
  /** records acknowledged as newly stored */
  stored: number;
  /** records the backend already had (e.g. bulk `create` answered 409) */
  duplicates: number;
  /** records rejected by the backend and written to the dead-letter destination */
  deadLettered: number;
  /** records that could neither be stored nor dead-lettered (counted, logged, acknowledged) */
  failed: number;
  /** item or request retries */
  retries: number;
}

export interface Sink {
  readonly name: string;
  /** connect, detect the server, install templates; rejects with a clear error if configuration is unusable */
  start(): Promise<void>;
  write(records: LogRecord[]): void;
  /** resolves when every record written so far has been acknowledged */
  flush(): Promise<void>;
  /** flush (bounded by the deadline), then release resources */
  shutdown(deadlineMs?: number): Promise<void>;
  stats(): SinkStats;
  /** false while the backend is unreachable (for /readyz) */
  healthy(): boolean;
  /** why it is not healthy, with the underlying error (for the periodic "output unavailable" report) */
  unhealthyReason?(): string | undefined;
  /** its own series for /metrics, beyond the counters every sink has (see src/core/metrics.ts) */
  describeMetrics?(): MetricFamily[];
}

export function emptySinkStats(): SinkStats {
  return { stored: 0, duplicates: 0, deadLettered: 0, failed: 0, retries: 0 };
}
