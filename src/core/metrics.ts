/**
 * The one way a component's counters reach /metrics: it describes its series, each with a function that
 * reads the value from the component's own counters at scrape time. Nothing is incremented per record for
 * metrics' sake, and nothing here loads prom-client: a sidecar without the endpoint never pays for it
 * (src/server/mirrored-metrics.ts turns these descriptions into Prometheus collectors).
 *
 * Names follow Prometheus conventions: `logferry_<component>_<what>_<unit>`, counters end in `_total`,
 * base units (bytes, seconds); help texts say what is counted, in one sentence.
 */

export type MetricLabels = Record<string, string>;

/** One series per label set; a counter's values only ever grow (a smaller value reads as no growth). */
export type MetricSamples = number | ReadonlyArray<readonly [labels: MetricLabels, value: number]>;

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  /** label names every sample carries; omit for a single unlabelled series */
  readonly labelNames?: readonly string[];
  /** called at every scrape */
  read(): MetricSamples;
}

/** What a component implements (or a small adapter next to it) so that its series are exported. */
export interface MetricsSource {
  describeMetrics(): MetricFamily[];
}

export function counter(name: string, help: string, read: () => MetricSamples, labelNames?: readonly string[]): MetricFamily {
  return { name, help, type: 'counter', read, labelNames };
}

export function gauge(name: string, help: string, read: () => MetricSamples, labelNames?: readonly string[]): MetricFamily {
  return { name, help, type: 'gauge', read, labelNames };
}

/** Samples of a `Map` of counts by one label (e.g. failures by reason). */
export function byLabel(label: string, counts: Iterable<readonly [string, number]>): Array<[MetricLabels, number]> {
  return [...counts].map(([value, count]) => [{ [label]: value }, count]);
}
