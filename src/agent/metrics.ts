/** The agent's Prometheus metrics, read from the components' own counters at scrape time. */
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricsSource } from '../core/metrics.js';
import { mirroredCounter as mirrored, mirroredGauge as gauge, registerFamilies } from '../server/mirrored-metrics.js';
import type { SinkStats } from '../sinks/sink.js';
import type { PipelineCounters } from './pipeline.js';

export interface MetricSources {
  sink: () => SinkStats;
  sinkName: string;
  pipeline: () => PipelineCounters;
  inflightBytes: () => number;
  backpressureMs: () => number;
  /**
   * Every component's own series (file sources and parsers, the sink's own, journald, Kubernetes...), each
   * through src/core/metrics.ts; a component without series of its own (undefined, or no
   * describeMetrics) adds none.
   */
  components?: Array<Partial<MetricsSource> | undefined>;
  /** series that are not read from counters at scrape time (e.g. histograms observed per request) */
  extra?: (registry: Registry) => void;
}

/** One series: the value of `read`, under `labels`. */
function mirroredCounter(registry: Registry, name: string, help: string, read: () => number, labels: Record<string, string> = {}): void {
  mirrored(registry, name, help, () => [read()], [labels]);
}

export function createMetrics(sources: MetricSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'logferry_' });
  const sink = { sink: sources.sinkName };
  mirroredCounter(registry, 'logferry_records_in_total', 'Records produced by sources', () => sources.pipeline().recordsIn);
  mirroredCounter(registry, 'logferry_records_sent_total', 'Records handed to the sink after transforms', () => sources.pipeline().recordsOut);
  mirroredCounter(registry, 'logferry_sink_records_stored_total', 'Records newly stored', () => sources.sink().stored, sink);
  mirroredCounter(registry, 'logferry_sink_records_duplicate_total', 'Records the backend already had', () => sources.sink().duplicates, sink);
  mirroredCounter(registry, 'logferry_sink_records_dead_lettered_total', 'Records rejected and dead-lettered', () => sources.sink().deadLettered, sink);
  mirroredCounter(registry, 'logferry_sink_records_failed_total', 'Records neither stored nor dead-lettered', () => sources.sink().failed, sink);
  mirroredCounter(registry, 'logferry_sink_retries_total', 'Retried items and requests', () => sources.sink().retries, sink);
  gauge(registry, 'logferry_inflight_bytes', 'Bytes read and not yet acknowledged', sources.inflightBytes);
  mirroredCounter(registry, 'logferry_backpressure_seconds_total', 'Time sources waited for the sink', () => sources.backpressureMs() / 1000);
  for (const component of sources.components ?? []) if (component?.describeMetrics) registerFamilies(registry, component.describeMetrics());
  sources.extra?.(registry);
  return registry;
}

/** Bulk request latency by outcome (HTTP status or `error`), observed by the sink per request. */
export function sinkLatencyHistogram(registry: Registry, sinkName: string): (seconds: number, outcome: string) => void {
  const histogram = new Histogram({
    name: 'logferry_sink_request_duration_seconds',
    help: 'Sink request latency',
    labelNames: ['sink', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return (seconds, outcome) => histogram.observe({ sink: sinkName, outcome }, seconds);
}
