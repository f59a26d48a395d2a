/**
 * Prometheus metrics read from components' own counters at scrape time, so nothing is incremented on the
 * per-record path for metrics' sake.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

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
