/**
 * The journald input's series, read from its own counters at scrape time (nothing is incremented per
 * entry for metrics' sake). Exported through src/core/metrics.ts when the input runs.
 */
import { counter, gauge, type MetricFamily } from '../../core/metrics.js';
import type { JournaldStats } from './source.js';

export function journaldMetrics(stats: () => JournaldStats): MetricFamily[] {
  return [
    gauge('logferry_journald_up', '1 while journalctl runs (for a second, or printing entries); 0 while it is down or crash-looping', () =>
      stats().up ? 1 : 0,
    ),
    counter('logferry_journald_restarts_total', 'journalctl processes started again after one exited or failed to start', () => stats().restarts),
    counter('logferry_journald_records_read_total', 'Journal entries read from journalctl', () => stats().recordsRead),
    counter('logferry_journald_errors_total', 'journalctl output lines that were not journal JSON', () => stats().errors),
  ];
}
