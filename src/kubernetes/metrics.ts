/**
 * The series of the Kubernetes metadata service and the enrichment transform, read from their own
 * counters at scrape time (nothing is incremented per record for metrics' sake).
 */
import { counter, gauge, type MetricFamily } from '../core/metrics.js';
import type { EnrichKubernetesCounters } from '../transforms/enrich-kubernetes.js';
import type { KubernetesStats } from './metadata-service.js';
import type { ListWatchStats } from './list-watch.js';

export function kubernetesMetrics(stats: () => KubernetesStats, transform?: () => EnrichKubernetesCounters): MetricFamily[] {
  const resources = ['resource'];
  const perResource = (pick: (s: ListWatchStats) => number) => (): Array<[Record<string, string>, number]> => {
    const s = stats();
    return [
      [{ resource: 'pods' }, pick(s.pods)],
      [{ resource: 'namespaces' }, pick(s.namespaces)],
    ];
  };
  const families = [
    counter(
      'logferry_kubernetes_lists_total',
      'List requests to the API server',
      perResource((s) => s.lists),
      resources,
    ),
    counter(
      'logferry_kubernetes_watches_total',
      'Watch requests to the API server',
      perResource((s) => s.watches),
      resources,
    ),
    counter(
      'logferry_kubernetes_relists_410_total',
      'Relists after 410 Gone',
      perResource((s) => s.relists410),
      resources,
    ),
    counter(
      'logferry_kubernetes_watch_events_total',
      'Watch events received (ADDED/MODIFIED/DELETED)',
      perResource((s) => s.events),
      resources,
    ),
    counter(
      'logferry_kubernetes_watch_cuts_total',
      'Watch streams that broke and were resumed',
      perResource((s) => s.watchCuts),
      resources,
    ),
    counter(
      'logferry_kubernetes_errors_total',
      'Failed API requests',
      perResource((s) => s.errors),
      resources,
    ),
    counter(
      'logferry_kubernetes_early_retries_total',
      'Reconnect backoff delays cut short because records of a pod not yet seen came in',
      perResource((s) => s.earlyRetries),
      resources,
    ),
    gauge('logferry_kubernetes_connected', '1 while the pods watch is established', () => (stats().connected ? 1 : 0)),
    gauge('logferry_kubernetes_synced', "1 once this node's pods were listed", () => (stats().synced ? 1 : 0)),
    gauge('logferry_kubernetes_pods_cached', 'Pods in the metadata cache, deleted ones included', () => stats().podsCached),
    gauge('logferry_kubernetes_deleted_pods_retained', 'Deleted pods kept for their last lines', () => stats().deletedPodsRetained),
    gauge('logferry_kubernetes_namespaces_cached', 'Namespaces in the metadata cache', () => stats().namespacesCached),
    counter('logferry_kubernetes_pod_waits_total', 'Batches that waited for a pod to appear', () => stats().waits),
    counter('logferry_kubernetes_pod_wait_timeouts_total', 'Waits for a pod that ran out', () => stats().waitTimeouts),
  ];
  if (transform) {
    families.push(
      counter('logferry_kubernetes_records_enriched_total', 'Records given pod metadata', () => transform().enriched),
      counter('logferry_kubernetes_records_excluded_total', 'Records dropped by logferry.io/exclude annotations', () => transform().excluded),
      counter('logferry_kubernetes_metadata_missing_total', 'Container records shipped with file-name metadata only', () => transform().metadataMissing),
    );
  }
  return families;
}
