/**
 * Following new records (`logferry tail -f`) on any backend by polling. Records do not become visible in
 * time order — pods are read and batched independently, Elasticsearch refreshes once a second — so each
 * poll re-reads a window reaching `followLagMs` behind the newest record seen, and remembers the ids in
 * that window to print each record once.
 */
import type { FoundRecord, LogQuery, QueryBackend } from './query.js';

export interface FollowOptions {
  /** between polls, in ms (default 500) */
  intervalMs?: number;
  /** records already printed (e.g. the last N); the newest of them is where following starts */
  printed?: readonly FoundRecord[];
  /** start here (microseconds) when nothing was printed; default now */
  startMicros?: number;
  signal?: AbortSignal;
  /** records per request while catching up (default 1000) */
  pageSize?: number;
  /**
   * A failed poll (Elasticsearch restarting, the store busy): reported here and polling goes on. Without
   * it, the error ends the follow.
   */
  onError?: (error: Error) => void;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export class Follower {
  /** id → timestamp (µs) of every record in the window */
  private readonly seen = new Map<string, number>();
  private newestMicros: number;
  private readonly lagMicros: number;

  constructor(
    private readonly backend: QueryBackend,
    private readonly query: LogQuery,
    private readonly options: FollowOptions = {},
  ) {
    this.lagMicros = backend.followLagMs * 1000;
    const printed = options.printed ?? [];
    this.newestMicros = printed.length > 0 ? Math.max(...printed.map((r) => r.tsMicros)) : (options.startMicros ?? Date.now() * 1000);
  }

  /** Every record in the window from `from` on, oldest first, page by page. */
  private async window(): Promise<FoundRecord[]> {
    const pageSize = this.options.pageSize ?? 1000;
    let from = this.newestMicros - this.lagMicros;
    if (this.query.fromMicros !== undefined && this.query.fromMicros > from) from = this.query.fromMicros;
    const out: FoundRecord[] = [];
    let query: LogQuery = { ...this.query, fromMicros: from, order: 'oldest', limit: pageSize, after: undefined };
    for (;;) {
      const page = await this.backend.search(query);
      for (const record of page) out.push(record);
      if (page.length < pageSize || this.options.signal?.aborted) return out;
      query = { ...query, after: page[page.length - 1].cursor };
    }
  }

  /** Remember what is already there without reporting it. */
  async prime(): Promise<void> {
    for (const record of this.options.printed ?? []) this.seen.set(record.id, record.tsMicros);
    for (const record of await this.window()) this.seen.set(record.id, record.tsMicros);
  }

  /** One poll: the records not reported before, in the order they were found (oldest first). */
  async poll(): Promise<FoundRecord[]> {
    const fresh: FoundRecord[] = [];
    for (const record of await this.window()) {
      if (this.seen.has(record.id)) continue;
      this.seen.set(record.id, record.tsMicros);
      fresh.push(record);
      if (record.tsMicros > this.newestMicros) this.newestMicros = record.tsMicros;
    }
    const floor = this.newestMicros - this.lagMicros;
    for (const [id, ts] of this.seen) if (ts < floor) this.seen.delete(id);
    return fresh;
  }

  /** Poll until the signal aborts, handing each non-empty batch to `onRecords`. */
  async run(onRecords: (records: FoundRecord[]) => void): Promise<void> {
    const signal = this.options.signal;
    await this.prime();
    let failing = false;
    while (!signal?.aborted) {
      await sleep(this.options.intervalMs ?? 500, signal);
      if (signal?.aborted) break;
      let fresh: FoundRecord[];
      try {
        fresh = await this.poll();
      } catch (error) {
        if (this.options.onError === undefined) throw error;
        if (!failing) this.options.onError(error as Error);
        failing = true;
        continue;
      }
      failing = false;
      if (fresh.length > 0) onRecords(fresh);
    }
  }
}
