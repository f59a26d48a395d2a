/**
 * The Elasticsearch sink's own series: requests, bytes, what it holds while Elasticsearch is away
 * (pending records and bytes), hosts up, and whole-request failures by reason — what an on-call engineer
 * needs to tell "Elasticsearch is down" from "our credentials expired" from "the cluster is overloaded".
 */
import { byLabel, counter, gauge, type MetricFamily } from '../../core/metrics.js';
import type { ElasticsearchSinkStats } from './sink-support.js';
import type { HttpResult } from './transport.js';

/**
 * The reason label of a failed bulk request: the connection problem (`refused`, `dns`, `connect_timeout`,
 * `response_timeout`, `reset`, `certificate`, `tls`...) or `http_<status>` for an answer retried as a
 * whole (429, 5xx, 401/403). A small, bounded set of values, as labels must be.
 */
export function failureReason(result: HttpResult): string {
  return result.kind === 'error' ? result.problem.replace(/-/g, '_') : `http_${result.status}`;
}

/** Whole-request failures counted by reason (a failure is not the hot path: a map update is fine). */
export class FailureReasons {
  private readonly counts = new Map<string, number>();

  add(reason: string): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
  }

  entries(): Array<[string, number]> {
    return [...this.counts];
  }
}

export function elasticsearchMetrics(stats: () => ElasticsearchSinkStats, failures: FailureReasons, refusals: FailureReasons): MetricFamily[] {
  return [
    counter(
      'logferry_elasticsearch_startup_refusals_total',
      'Start-up checks (GET /) the cluster refused, by reason: http_401/http_403 (credentials), certificate or tls (the CA); retried while the agent waits for a fix',
      () => byLabel('reason', refusals.entries()),
      ['reason'],
    ),
    counter('logferry_elasticsearch_bulk_requests_total', 'Bulk requests sent (first attempts and retries)', () => stats().requests),
    counter(
      'logferry_elasticsearch_request_failures_total',
      'Bulk requests that failed as a whole and are retried, by reason (connection problem, or http_<status> for 429, 5xx, 401/403)',
      () => byLabel('reason', failures.entries()),
      ['reason'],
    ),
    counter(
      'logferry_elasticsearch_items_retried_total',
      'Documents sent again after their bulk item failed (429, 5xx, cluster blocks)',
      () => stats().itemsRetried,
    ),
    counter(
      'logferry_elasticsearch_replay_checked_total',
      'Records looked up by _id before sending (read again after a restart, or after a request of unknown fate to a data stream)',
      () => stats().replayChecked,
    ),
    counter(
      'logferry_elasticsearch_replay_found_total',
      'Records found stored already by that lookup (possibly in another backing or daily index): acknowledged, not sent',
      () => stats().replayFound,
    ),
    counter('logferry_elasticsearch_sent_bytes_total', 'Bulk request bodies sent, as on the wire (compressed when gzip is on)', () => stats().bytesSent),
    counter('logferry_elasticsearch_uncompressed_bytes_total', 'Bulk request bodies sent, before compression', () => stats().bytesUncompressed),
    gauge(
      'logferry_elasticsearch_pending_records',
      'Records handed to the sink and not yet acknowledged (stored, duplicate or dead-lettered)',
      () => stats().pendingRecords,
    ),
    gauge('logferry_elasticsearch_pending_bytes', 'NDJSON bytes the sink holds for records not yet acknowledged', () => stats().pendingBytes),
    gauge('logferry_elasticsearch_hosts', 'Elasticsearch hosts configured', () => stats().hosts),
    gauge('logferry_elasticsearch_hosts_up', 'Elasticsearch hosts currently answering (a host marked down is probed until it does)', () => stats().hostsUp),
  ];
}
