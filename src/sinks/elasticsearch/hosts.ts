/**
 * The cluster's hosts: one keep-alive connection pool (http-pool.ts) per host, picked round-robin among the
 * live ones. A host that fails at the connection level (refused, reset, timeout, TLS) is marked down and
 * left alone; a cheap `GET /` probes it later (backing off) and brings it back when it answers. Real
 * batches are never used as probes, so a black-holed host costs one connect timeout, not one per batch.
 */
import { rootCertificates } from 'node:tls';
import { CONNECT_TIMEOUT, HttpPool } from './http-pool.js';
import { classifyConnectionError, describeConnectionError, type ConnectionProblem } from '../../core/connection-error.js';
import type { ElasticsearchConfig } from './config.js';

export interface EsHost {
  readonly url: URL;
  /** origin and path prefix, never credentials: safe for logs and metrics */
  readonly label: string;
  /** a path the cluster sits under behind a proxy (`https://proxy/es`), '' otherwise */
  readonly pathPrefix: string;
  /** the host URL's query string without `?` (`tenant=a`), added to every request's own; '' when none */
  readonly query: string;
  /** configured extra headers, with the host's authorization */
  readonly headers: Readonly<Record<string, string>>;
  readonly pool: HttpPool;
  readonly authorization: string | undefined;
  alive: boolean;
  /** connection-level failures in a row */
  failures: number;
  lastError: string | undefined;
  probe: NodeJS.Timeout | undefined;
}

export interface HostEvents {
  onDown?(host: string, reason: string): void;
  onUp?(host: string): void;
}

function authorizationFor(url: URL, config: Pick<ElasticsearchConfig, 'auth'>): string | undefined {
  // Credentials in a host's URL are that host's; otherwise the configured ones apply to all.
  if (url.username !== '') {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  const auth = config.auth;
  if (auth === undefined) return undefined;
  if (auth.kind === 'apiKey') return `ApiKey ${auth.apiKey}`;
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}

export type HostsConfig = Pick<
  ElasticsearchConfig,
  'hosts' | 'auth' | 'tls' | 'concurrency' | 'requestTimeoutMs' | 'connectTimeoutMs' | 'deadHostRetryMs' | 'retryMaxDelayMs'
> &
  Partial<Pick<ElasticsearchConfig, 'hostsFrom' | 'maxResponseBytes' | 'headers'>>;

/**
 * The path to request on `host` for an API path (`/_bulk?filter_path=…`): under the host's path prefix,
 * with the host URL's query string joined to the request's own.
 */
export function hostPath(host: Pick<EsHost, 'pathPrefix' | 'query'>, path: string): string {
  if (host.query === '') return host.pathPrefix + path;
  return host.pathPrefix + path + (path.includes('?') ? '&' : '?') + host.query;
}

export class HostSet {
  readonly hosts: EsHost[];
  private next = 0;
  private closed = false;
  private upWaiters: Array<() => void> = [];

  constructor(
    private readonly config: HostsConfig,
    private readonly events: HostEvents = {},
  ) {
    // A configured CA is added to the system's roots, so a public endpoint keeps working beside it.
    const ca = config.tls.ca !== undefined ? [...rootCertificates, config.tls.ca] : undefined;
    this.hosts = config.hosts.map((url) => {
      const pathPrefix = url.pathname.replace(/\/+$/, '');
      const authorization = authorizationFor(url, config);
      return {
        url,
        label: url.origin + pathPrefix,
        pathPrefix,
        query: url.search.replace(/^\?/, ''),
        headers: authorization !== undefined ? { ...config.headers, authorization } : { ...config.headers },
        authorization,
        alive: true,
        failures: 0,
        lastError: undefined,
        probe: undefined,
        pool: new HttpPool(url, {
          // One more than the bulk concurrency: start-up requests and probes never wait behind a bulk.
          connections: config.concurrency + 1,
          // Below the idle timeouts servers and proxies commonly use (Node's own is 5 s), so a kept-alive
          // socket is rarely closed under a request; a steady stream (1 s flushes) keeps it warm.
          keepAliveMs: 4_000,
          connectTimeoutMs: config.connectTimeoutMs,
          requestTimeoutMs: config.requestTimeoutMs,
          tls: { ca, rejectUnauthorized: config.tls.verify, ...(config.tls.verify ? {} : { checkServerIdentity: () => undefined }) },
          maxResponseBytes: config.maxResponseBytes,
        }),
      };
    });
  }

  get labels(): string[] {
    return this.hosts.map((h) => h.label);
  }

  anyAlive(): boolean {
    for (const host of this.hosts) if (host.alive) return true;
    return false;
  }

  aliveCount(): number {
    let n = 0;
    for (const host of this.hosts) if (host.alive) n++;
    return n;
  }

  /** The next live host, round-robin; undefined when every host is down. */
  pick(): EsHost | undefined {
    const n = this.hosts.length;
    for (let i = 0; i < n; i++) {
      const host = this.hosts[(this.next + i) % n];
      if (host.alive) {
        this.next = (this.next + i + 1) % n;
        return host;
      }
    }
    return undefined;
  }

  /** A live host, or — for one-off requests that would rather try than wait — the next one in turn. */
  pickAny(): EsHost {
    const live = this.pick();
    if (live !== undefined) return live;
    const host = this.hosts[this.next];
    this.next = (this.next + 1) % this.hosts.length;
    return host;
  }

  /** Resolves when some host is live (at once if one is). */
  whenAnyAlive(): Promise<void> {
    if (this.anyAlive() || this.closed) return Promise.resolve();
    // Someone waits on the probes now: they must keep the process alive (an agent in --oneshot mode
    // flushing while the cluster is down has nothing else pending).
    for (const host of this.hosts) host.probe?.ref();
    return new Promise((resolve) => this.upWaiters.push(resolve));
  }

  markUp(host: EsHost): void {
    host.failures = 0;
    if (host.probe !== undefined) {
      clearTimeout(host.probe);
      host.probe = undefined;
    }
    if (host.alive) return;
    host.alive = true;
    host.lastError = undefined;
    this.events.onUp?.(host.label);
    const waiters = this.upWaiters;
    this.upWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * A request to `host` failed at the connection level. `certain`: the host cannot be reached (refused,
   * unresolvable, connect timeout, TLS); otherwise (a reset, an answer that did not come) it is set aside
   * only when it happens twice in a row — a kept-alive socket closed by the server as it was reused is
   * not a dead host.
   */
  markDown(host: EsHost, reason: string, certain = true): void {
    host.failures++;
    host.lastError = reason;
    if (!certain && host.failures < 2) return;
    if (host.alive) {
      host.alive = false;
      this.events.onDown?.(host.label, reason);
    }
    this.scheduleProbe(host);
  }

  private scheduleProbe(host: EsHost): void {
    if (this.closed || host.probe !== undefined) return;
    const delay = Math.min(
      this.config.deadHostRetryMs * 2 ** Math.min(host.failures - 1, 16),
      Math.max(this.config.retryMaxDelayMs, this.config.deadHostRetryMs),
    );
    host.probe = setTimeout(() => {
      host.probe = undefined;
      void this.probe(host);
    }, delay);
    // Probes nobody waits for must not keep a process alive (a CLI query that is done).
    if (this.upWaiters.length === 0) host.probe.unref();
  }

  private async probe(host: EsHost): Promise<void> {
    if (this.closed || host.alive) return;
    try {
      await host.pool.request({
        method: 'GET',
        path: hostPath(host, '/'),
        headers: host.headers,
        timeoutMs: Math.min(this.config.requestTimeoutMs, 10_000),
      });
      // Any HTTP answer means the host is reachable; what it says about a request is for that request.
      this.markUp(host);
    } catch (error) {
      if (this.closed) return;
      this.markDown(host, this.describe(host, error));
    }
  }

  /**
   * One line for a failed request to `host`: what happened and which setting to change. Without the
   * host: every caller shows it beside the reason already.
   */
  describe(_host: EsHost, error: unknown): string {
    return describeConnectionError(error, { setting: this.config.hostsFrom, caSetting: CA_SETTING });
  }

  /** Stop probing; let in-flight requests finish (`destroy` aborts them instead). */
  async close(destroy = false): Promise<void> {
    this.closed = true;
    for (const host of this.hosts) {
      if (host.probe !== undefined) clearTimeout(host.probe);
      host.probe = undefined;
    }
    const waiters = this.upWaiters;
    this.upWaiters = [];
    for (const wake of waiters) wake();
    await Promise.all(this.hosts.map((h) => (destroy ? h.pool.destroy() : h.pool.close()).catch(() => undefined)));
  }
}

const CA_SETTING = 'ELASTICSEARCH_CA_FILE (output.elasticsearch.tls.caFile)';

/** Problems that retrying cannot fix: the TLS settings or the address must change. */
const TLS_PROBLEMS = new Set<ConnectionProblem>(['certificate', 'not-tls', 'tls']);

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', CONNECT_TIMEOUT]);

/** The host could not be reached at all (as opposed to a connection that broke). */
export function isUnreachable(error: unknown): boolean {
  const err = error as { code?: string; cause?: unknown } | undefined;
  if (err?.code !== undefined && UNREACHABLE_CODES.has(err.code)) return true;
  if (isTlsError(error)) return true;
  return err?.cause !== undefined && err.cause !== error && isUnreachable(err.cause);
}

/** A certificate or protocol problem: retrying will not help, the configuration must change. */
export function isTlsError(error: unknown): boolean {
  return TLS_PROBLEMS.has(classifyConnectionError(error).problem);
}
