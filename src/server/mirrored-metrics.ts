/**
 * Prometheus metrics read from components' own counters at scrape time, so nothing is incremented on the
 * per-record path for metrics' sake.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { MetricFamily, MetricLabels, MetricSamples } from '../core/metrics.js';

/** Register the series components describe (see src/core/metrics.ts); values are read at each scrape. */
export function registerFamilies(registry: Registry, families: Iterable<MetricFamily>): void {
  for (const family of families) {
    const common = { name: family.name, help: family.help, labelNames: [...(family.labelNames ?? [])], registers: [registry] };
    if (family.type === 'gauge') {
      new Gauge({
        ...common,
        collect() {
          // Reset first: a label set no longer reported (a host removed) must not keep its last value.
          this.reset();
          for (const [labels, value] of samplesOf(family.read())) this.set(labels, value);
        },
      });
      continue;
    }
    // Counters only grow: each scrape adds the growth since the last one, and 0 for a new label set so
    // that it has a sample at once.
    const last = new Map<string, number>();
    new Counter({
      ...common,
      collect() {
        for (const [labels, value] of samplesOf(family.read())) {
          const key = JSON.stringify(labels);
          const before = last.get(key) ?? 0;
          this.inc(labels, value > before ? value - before : 0);
          last.set(key, Math.max(before, value));
        }
      },
    });
  }
}

function samplesOf(samples: MetricSamples): ReadonlyArray<readonly [MetricLabels, number]> {
  return typeof samples === 'number' ? [[{}, samples]] : samples;
}

/**
 * A counter (one series per label set) whose values come from elsewhere: each scrape adds the growth since
 * the last one. It also adds 0, because a labelled series has no sample until its first inc.
 */
export function mirroredCounter(registry: Registry, name: string, help: string, read: () => number[], labelSets: Array<Record<string, string>> = [{}]): void {
  const last = labelSets.map(() => 0);
  new Counter({
    name,
    help,
    registers: [registry],
    labelNames: labelSets.length > 0 ? Object.keys(labelSets[0]) : [],
    collect() {
      read().forEach((value, i) => {
        this.inc(labelSets[i], value > last[i] ? value - last[i] : 0);
        last[i] = Math.max(last[i], value);
      });
    },
  });
}

export function mirroredGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}
