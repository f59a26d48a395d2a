/**
 * Prometheus metrics of the journald input, read from its own counters at scrape time (nothing is
 * incremented per entry for metrics' sake). Registered by src/agent/metrics.ts when the input runs.
 */
import type { Registry } from 'prom-client';
import { mirroredCounter as counter, mirroredGauge as gauge } from '../../server/mirrored-metrics.js';
import type { JournaldStats } from './source.js';

export function registerJournaldMetrics(registry: Registry, stats: () => JournaldStats): void {
  gauge(registry, 'logferry_journald_up', '1 while journalctl runs (for a second, or printing entries); 0 while it is down or crash-looping', () => (stats().up ? 1 : 0));
  counter(registry, 'logferry_journald_restarts_total', 'journalctl processes started again after one exited or failed to start', () => [stats().restarts]);
  counter(registry, 'logferry_journald_records_read_total', 'Journal entries read from journalctl', () => [stats().recordsRead]);
  counter(registry, 'logferry_journald_errors_total', 'journalctl output lines that were not journal JSON', () => [stats().errors]);
}
