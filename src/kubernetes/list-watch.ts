/**
 * One list+watch loop over one resource, following the API server's protocol:
 *   list with `resourceVersion=0` (answered from the API server's watch cache, not etcd), then watch from
 *   the list's resourceVersion with bookmarks; a cut stream resumes from the last version seen (no list);
 *   `410 Gone` — as the HTTP status or as an ERROR event — means that version left the server's history:
 *   list again, exactly once. Failures back off exponentially with jitter; {@link ListWatch.retrySoon} cuts
 *   a delay short when records are waiting for what the watch would bring (rate-limited).
 *
 * Why not @kubernetes/client-node's informer: its ListWatch stops for good on any error other than 410
 * (reconnecting and backing off is left to the caller), it keeps every full object (managedFields and
 * all) in memory, and it brings its generated API client and node-fetch onto the request path. This is a
 * loop of two GETs over undici that keeps nothing but the resourceVersion; the cache decides what to keep.
 */
import { StringDecoder } from 'node:string_decoder';
import type { ApiClient } from './api-client.js';
import { describeConnectionError, ResponseTooLargeError } from '../core/connection-error.js';
import { ApiError, MAX_ERROR_BODY_BYTES, readCapped, readStart, responseError } from './api-response.js';

export { ApiError };
import type { Backoff } from '../core/backoff.js';
import type { KubeList, KubeStatus, ObjectMeta, WatchEvent, WatchHandler } from './objects.js';

export interface KubeLog {
  info(context: object, message: string): void;
  warn(context: object, message: string): void;
  debug(context: object, message: string): void;
}

export interface ListWatchOptions<T> {
  client: ApiClient;
  /** `pods` or `namespaces` (core/v1, cluster-wide path) */
  resource: string;
  /** e.g. `spec.nodeName=node-1` */
  fieldSelector?: string;
  handler: WatchHandler<T>;
  backoff: Backoff;
  /** server-side watch timeout; the actual value is random in [this, 2 × this) */
  watchTimeoutSeconds: number;
  requestTimeoutMs: number;
  random?: () => number;
  onStateChange?: () => void;
  log?: KubeLog;
  /** a list answer longer than this fails (default {@link MAX_LIST_BYTES}) */
  maxListBytes?: number;
  /** a watch event line longer than this fails (default {@link MAX_EVENT_BYTES}) */
  maxEventBytes?: number;
}

/**
 * Limits on what the API server (or whatever answers at its address) may make the agent buffer. A list
 * of one node's pods is a few MB even at 110 pods with large specs, a cluster's namespaces a few MB more;
 * etcd refuses objects over 1.5 MB, so one event line is far below its cap. A proxy streaming something
 * endless fails the request with a message instead of filling the heap.
 */
export const MAX_LIST_BYTES = 64 * 1024 * 1024;
export const MAX_EVENT_BYTES = 16 * 1024 * 1024;

export interface ListWatchStats {
  lists: number;
  watches: number;
  relists410: number;
  events: number;
  bookmarks: number;
  errors: number;
  unauthorized: number;
  /** watch streams that broke (reset, premature close, idle timeout) and were resumed */
  watchCuts: number;
  /** watch streams the server ended normally (timeoutSeconds) */
  watchEnds: number;
  /** delays before the next attempt cut short by {@link ListWatch.retrySoon} */
  earlyRetries: number;
  resourceVersion: string | undefined;
  lastError: string | undefined;
}

type WatchOutcome = { kind: 'gone' } | { kind: 'ended'; cut: boolean; healthy: boolean };

const HEALTHY_WATCH_MS = 1000;

export class ListWatch<T extends { metadata?: ObjectMeta }> {
  readonly stats: ListWatchStats = {
    lists: 0,
    watches: 0,
    relists410: 0,
    events: 0,
    bookmarks: 0,
    errors: 0,
    unauthorized: 0,
    watchCuts: 0,
    watchEnds: 0,
    earlyRetries: 0,
    resourceVersion: undefined,
    lastError: undefined,
  };
  private stopped = false;
  private readonly abort = new AbortController();
  private loopDone: Promise<void> | undefined;
  private isConnected = false;
  private isSynced = false;
  private syncWaiters: Array<() => void> = [];
  private readonly random: () => number;
  /** when the current attempt (or the last one) started: early retries keep `backoff.minMs` from it */
  private lastAttemptAt = 0;
  /** the server's Retry-After: no attempt, early or not, before this time */
  private notBefore = 0;
  /**
   * The last failure was the server refusing us (401/403: credentials or RBAC; 429 without Retry-After:
   * overload), not being away: an early retry cannot help and, fleet-wide, would multiply the refusals.
   */
  private earlyRetryPointless = false;
  /** the delay being slept before the next attempt, if any */
  private pause: { until: number; timer: NodeJS.Timeout; wake: () => void } | undefined;

  constructor(private readonly options: ListWatchOptions<T>) {
    this.random = options.random ?? Math.random;
  }

  /** the first list has completed */
  get synced(): boolean {
    return this.isSynced;
  }

  /** the last request reached the API server and no failure happened since */
  get connected(): boolean {
    return this.isConnected;
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.loopDone;
    this.releaseSyncWaiters();
  }

  /**
   * Someone needs what this watch would bring (records of a pod it has not seen) while it sleeps out a
   * backoff delay, which can be as long as `backoff.maxMs` after an outage although the API server may
   * be back already: attempt now instead. Rate-limited so that callers can ask as often as they like:
   * no sooner than `backoff.minMs` after the previous attempt started (at most the rate of the first
   * backoff step, which the server sees after any blip anyway) nor before a Retry-After the server gave;
   * never when the server itself refused the last attempt. Nothing to do while an attempt is under way.
   */
  retrySoon(): void {
    const pause = this.pause;
    if (pause === undefined || this.stopped || this.earlyRetryPointless) return;
    const now = Date.now();
    const at = Math.max(now, this.lastAttemptAt + this.options.backoff.minMs, this.notBefore);
    if (at >= pause.until) return;
    clearTimeout(pause.timer);
    pause.until = at;
    pause.timer = setTimeout(pause.wake, at - now);
    this.stats.earlyRetries++;
  }

  /** Resolves after the first successful list, or when stopped. */
  whenSynced(): Promise<void> {
    if (this.isSynced || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  private setConnected(value: boolean, reason?: string): void {
    if (this.isConnected === value) return;
    this.isConnected = value;
    // A stop is not an outage: nothing to retry, nothing to report.
    if (!this.stopped) {
      const context = { resource: this.options.resource, server: this.options.client.server, ...(reason !== undefined ? { reason } : {}) };
      this.options.log?.info(context, value ? 'kubernetes API watch established' : 'kubernetes API unreachable; retrying with backoff');
    }
    this.options.onStateChange?.();
  }

  private releaseSyncWaiters(): void {
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async loop(): Promise<void> {
    const { backoff } = this.options;
    let goneStreak = 0;
    while (!this.stopped) {
      let wait = 0;
      this.lastAttemptAt = Date.now();
      this.earlyRetryPointless = false;
      try {
        if (this.stats.resourceVersion === undefined) await this.list();
        const outcome = await this.watch();
        if (outcome.kind === 'gone') {
          this.stats.relists410++;
          this.stats.resourceVersion = undefined;
          this.options.log?.info({ resource: this.options.resource }, 'watch history expired (410 Gone); listing again');
          // A 410 right after a fresh list would loop without pause: back off from the second one on.
          if (++goneStreak > 1) wait = backoff.next();
        } else {
          goneStreak = 0;
          if (!outcome.healthy) wait = backoff.next();
          else {
            backoff.reset();
            if (outcome.cut) wait = backoff.spread();
          }
        }
      } catch (error) {
        if (this.stopped) break;
        this.stats.errors++;
        const message = this.describe(error);
        this.stats.lastError = message;
        const status = error instanceof ApiError ? error.statusCode : 0;
        if (status === 401 || status === 403) this.stats.unauthorized++;
        const retryAfterMs = error instanceof ApiError ? error.retryAfterMs : 0;
        this.notBefore = retryAfterMs > 0 ? Date.now() + retryAfterMs : 0;
        this.earlyRetryPointless = status === 401 || status === 403 || (status === 429 && retryAfterMs === 0);
        wait = Math.max(backoff.next(), retryAfterMs);
        this.options.log?.debug({ resource: this.options.resource, error: message, retryInMs: wait }, 'kubernetes API request failed');
        if (status === 401 || status === 403)
          this.options.log?.warn(
            { resource: this.options.resource, status, error: message },
            'kubernetes API refused the credentials (RBAC needs get/list/watch on pods and namespaces)',
          );
        this.setConnected(false, message);
      }
      if (wait > 0 && !this.stopped) await this.sleep(wait);
    }
    this.setConnected(false);
  }

  /** Waits `ms` before the next attempt; ends early on stop(), or sooner when {@link retrySoon} asks. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.abort.signal;
      if (signal.aborted) return resolve();
      const wake = () => {
        clearTimeout(this.pause?.timer);
        this.pause = undefined;
        signal.removeEventListener('abort', wake);
        resolve();
      };
      this.pause = { until: Date.now() + ms, timer: setTimeout(wake, ms), wake };
      signal.addEventListener('abort', wake);
    });
  }

  private query(extra: string): string {
    const selector = this.options.fieldSelector;
    return `/api/v1/${this.options.resource}?${extra}${selector ? '&fieldSelector=' + encodeURIComponent(selector) : ''}`;
  }

  private async list(): Promise<void> {
    const { client, requestTimeoutMs } = this.options;
    this.stats.lists++;
    const response = await client.get(this.query('resourceVersion=0'), { signal: this.abort.signal, timeoutMs: requestTimeoutMs });
    if (response.statusCode !== 200) throw await responseError(response.statusCode, response.headers, response.body);
    const text = await readCapped(response.body, this.options.maxListBytes ?? MAX_LIST_BYTES, `the list of ${this.options.resource}`);
    let list: KubeList<T>;
    try {
      list = JSON.parse(text) as KubeList<T>;
    } catch {
      throw new ApiError(0, `the list of ${this.options.resource} is not JSON (${JSON.stringify(text.slice(0, 120))}): is ${client.server} an API server?`);
    }
    const version = list.metadata?.resourceVersion;
    if (typeof version !== 'string' || version === '') throw new ApiError(0, `list of ${this.options.resource} has no metadata.resourceVersion`);
    this.options.handler.replace(Array.isArray(list.items) ? list.items : []);
    this.stats.resourceVersion = version;
    this.setConnected(true);
    if (!this.isSynced) {
      this.isSynced = true;
      this.releaseSyncWaiters();
      this.options.onStateChange?.();
    }
  }

  private async watch(): Promise<WatchOutcome> {
    const { client, requestTimeoutMs, watchTimeoutSeconds } = this.options;
    const timeoutSeconds = watchTimeoutSeconds + Math.floor(this.random() * watchTimeoutSeconds);
    const path = this.query(
      `watch=true&resourceVersion=${encodeURIComponent(this.stats.resourceVersion ?? '0')}&allowWatchBookmarks=true&timeoutSeconds=${timeoutSeconds}`,
    );
    this.stats.watches++;
    const started = Date.now();
    const response = await client.get(path, {
      signal: this.abort.signal,
      timeoutMs: requestTimeoutMs,
      // Real API servers send a bookmark about once a minute; silence well past the timeout is a dead peer.
      bodyTimeoutMs: (timeoutSeconds + 60) * 1000,
    });
    if (response.statusCode === 410) {
      await readStart(response.body, MAX_ERROR_BODY_BYTES).catch(() => '');
      return { kind: 'gone' };
    }
    if (response.statusCode !== 200) throw await responseError(response.statusCode, response.headers, response.body);
    this.setConnected(true);
    let delivered = 0;
    const decoder = new StringDecoder('utf8');
    let pending = '';
    try {
      for await (const chunk of response.body) {
        pending += decoder.write(chunk as Buffer);
        let start = 0;
        let newline: number;
        while ((newline = pending.indexOf('\n', start)) >= 0) {
          const line = pending.slice(start, newline);
          start = newline + 1;
          if (line.trim() === '') continue;
          if (this.dispatch(line) === 'gone') {
            response.body.destroy();
            return { kind: 'gone' };
          }
          delivered++;
        }
        pending = start > 0 ? pending.slice(start) : pending;
        const maxEvent = this.options.maxEventBytes ?? MAX_EVENT_BYTES;
        if (pending.length > maxEvent) {
          response.body.destroy();
          throw new ResponseTooLargeError(maxEvent, `a watch event of ${this.options.resource}`);
        }
      }
      pending += decoder.end();
      if (pending.trim() !== '' && this.dispatch(pending) === 'gone') return { kind: 'gone' };
      this.stats.watchEnds++;
      return { kind: 'ended', cut: false, healthy: delivered > 0 || Date.now() - started >= HEALTHY_WATCH_MS };
    } catch (error) {
      if (this.stopped || error instanceof ApiError || error instanceof ResponseTooLargeError) throw error;
      this.stats.watchCuts++;
      this.options.log?.debug(
        { resource: this.options.resource, error: this.describe(error), resourceVersion: this.stats.resourceVersion },
        'watch stream cut; resuming',
      );
      return { kind: 'ended', cut: true, healthy: delivered > 0 || Date.now() - started >= HEALTHY_WATCH_MS };
    }
  }

  /** One line naming the server and what to do, never a stack or a raw OpenSSL string. */
  private describe(error: unknown): string {
    if (error instanceof ApiError) return error.message;
    const source = this.options.client.source;
    const setting = source === 'apiServer' ? 'kubernetes.apiServer' : source === 'in-cluster' ? 'KUBERNETES_SERVICE_HOST/PORT' : source;
    return describeConnectionError(error, { host: this.options.client.server, setting, caSetting: 'kubernetes.caFile' });
  }

  /** Applies one watch event line; 'gone' for a 410 ERROR event. Throws for other ERROR events. */
  private dispatch(line: string): 'ok' | 'gone' {
    let event: WatchEvent<T>;
    try {
      event = JSON.parse(line) as WatchEvent<T>;
    } catch {
      throw new ApiError(0, `watch of ${this.options.resource} sent a line that is not JSON: ${line.slice(0, 200)}`);
    }
    const object = event.object;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED':
        this.stats.events++;
        this.options.handler.apply(event.type, object);
        break;
      case 'BOOKMARK':
        this.stats.bookmarks++;
        break;
      case 'ERROR': {
        const status = object as KubeStatus;
        if (status.code === 410) return 'gone';
        throw new ApiError(
          status.code ?? 0,
          `watch of ${this.options.resource} ended with an error: ${status.code ?? '?'} ${status.reason ?? ''} ${status.message ?? ''}`.trim(),
        );
      }
      default:
        return 'ok';
    }
    const version = object?.metadata?.resourceVersion;
    if (typeof version === 'string' && version !== '') this.stats.resourceVersion = version;
    return 'ok';
  }
}
