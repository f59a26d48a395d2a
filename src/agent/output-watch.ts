/**
 * Keeps saying that an output is down while it is. The sink logs the first failure at once and then
 * throttles its own lines, and while nothing is sent (sources paused on backpressure, or the cluster not
 * reached at start) it has nothing to log at all: an agent that stays silent for an hour looks healthy.
 * This watch logs one line per interval, with the target, the reason and how far behind the files are,
 * until the output answers, then one line saying it is back. In a oneshot run it also gives up after a
 * bound, so an import into an unreachable cluster ends with a clear line and a non-zero exit.
 */
import type { Config } from '../config/load.js';

export interface OutputWatchOptions {
  /** `elasticsearch`, `local` ... */
  name: string;
  /** where it sends, safe to log (no credentials) */
  target: string;
  /** why the output does not take records now, undefined while it does */
  unavailable(): string | undefined;
  /** file bytes read or not, not yet acknowledged: what waits in the files */
  bytesBehind(): number;
  reportIntervalMs: number;
  /** oneshot: give up once the output has been unavailable this long */
  giveUpAfterMs?: number;
  onGiveUp?(message: string): void;
  warn(message: string, context: Record<string, unknown>): void;
  info(message: string, context: Record<string, unknown>): void;
  now?: () => number;
}

/** How often the state is looked at (reports themselves follow reportIntervalMs). */
const TICK_MS = 1000;

export class OutputWatch {
  private downSince: number | undefined;
  private lastReportAt = 0;
  private reported = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: OutputWatchOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), Math.min(TICK_MS, this.options.reportIntervalMs));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Since when the output has been unavailable (undefined while it works). */
  get unavailableSince(): number | undefined {
    return this.downSince;
  }

  tick(): void {
    const o = this.options;
    const now = this.now();
    const reason = o.unavailable();
    if (reason === undefined) {
      if (this.downSince !== undefined && this.reported) {
        o.info(`output ${o.name} ${o.target} answers again after ${formatDuration(now - this.downSince)}; records waiting in the files are sent now`, {
          output: o.name,
          target: o.target,
          unavailableForMs: now - this.downSince,
        });
      }
      this.downSince = undefined;
      this.reported = false;
      return;
    }
    if (this.downSince === undefined) {
      // The sink has just said so itself; the first report of this watch comes one interval later.
      this.downSince = now;
      this.lastReportAt = now;
      return;
    }
    const down = now - this.downSince;
    const context = { output: o.name, target: o.target, reason, unavailableForMs: down, bytesBehind: o.bytesBehind() };
    if (o.giveUpAfterMs !== undefined && down >= o.giveUpAfterMs) {
      this.stop();
      o.onGiveUp?.(
        `gave up: output ${o.name} ${o.target} unavailable for ${formatDuration(down)} (--output-timeout ${formatDuration(o.giveUpAfterMs)}): ${reason}`,
      );
      return;
    }
    if (now - this.lastReportAt < o.reportIntervalMs) return;
    this.lastReportAt = now;
    this.reported = true;
    o.warn(
      `output ${o.name} ${o.target} unavailable for ${formatDuration(down)}: ${reason}; records wait in the files (${context.bytesBehind} bytes behind) and are sent when it answers`,
      context,
    );
  }
}

/** Where the configured output sends, for logs: Elasticsearch URLs without credentials, or the data directory. */
export function outputTarget(config: Config): string {
  if (config.output.kind === 'elasticsearch') return config.output.elasticsearch.hosts.map((url) => url.origin + url.pathname.replace(/\/+$/, '')).join(',');
  return config.dataDir;
}

/** `1h2m`, `2m5s`, `45s`, `800ms` */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m > 0 ? `${m}m` : ''}`;
  if (m > 0) return `${m}m${s > 0 ? `${s}s` : ''}`;
  return `${s}s`;
}

/** `--output-timeout`: `90s`, `5m`, `1h`, or a number of seconds. Undefined when not understood. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (match === null) return undefined;
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(value * factor);
}
