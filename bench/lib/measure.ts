/** What every benchmark case reports: records/s, MB/s, CPU-seconds per million records, peak RSS. */
import { readFileSync } from 'node:fs';

export interface BenchResult {
  case: string;
  records: number;
  bytes: number;
  seconds: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  cpuSecondsPerMillion: number;
  peakRssMb: number;
  notes?: string;
}

let sampledPeak = 0;

/**
 * Sample RSS every `everyMs` until the returned function is called: where the kernel's high-water mark
 * (VmHWM) is not available, the peak is the largest sample.
 */
export function sampleRss(everyMs = 50): () => void {
  const timer = setInterval(() => {
    sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss());
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

export function peakRssMb(): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // not Linux: fall back to the sampled peak
  }
  return Math.max(sampledPeak, process.memoryUsage.rss()) / 1048576;
}

export async function measure(name: string, records: number, bytes: number, run: () => Promise<void>, notes?: string): Promise<BenchResult> {
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    case: name,
    records,
    bytes,
    seconds: round(seconds),
    recordsPerSecond: Math.round(records / seconds),
    mbPerSecond: round(bytes / 1048576 / seconds),
    cpuSecondsPerMillion: round((cpuSeconds / records) * 1e6),
    peakRssMb: round(peakRssMb()),
    notes,
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Each case prints one JSON line last; the runner collects it. */
export function report(result: BenchResult): void {
  process.stdout.write('BENCH ' + JSON.stringify(result) + '\n');
}

/** A case that cannot run here says why in one line; the runner shows it as skipped. */
export function skip(name: string, reason: string): void {
  process.stdout.write('BENCH_SKIP ' + JSON.stringify({ case: name, reason }) + '\n');
}
