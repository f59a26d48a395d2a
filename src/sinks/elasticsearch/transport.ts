/**
 * HTTP to the cluster: one undici Pool per host, round-robin with failover; a host that fails is set
 * aside for a while and tried again later. Failures come back as values, not exceptions.
 */
import { Pool } from 'undici';
import type { ElasticsearchConfig } from './config.js';

export type HttpResult =
  | { kind: 'response'; status: number; body: string; bytes: Buffer; headers: Record<string, string | string[] | undefined>; host: string }
  | { kind: 'error'; error: string; host: string };

interface Host {
  url: URL;
  label: string;
  pool: Pool;
  deadUntil: number;
}

export class Transport {
  private readonly hosts: Host[];
  private next = 0;
  private readonly authorization: string | undefined;

  constructor(private readonly config: ElasticsearchConfig) {
    this.hosts = config.hosts.map((url) => ({
      url,
      label: url.origin,
      deadUntil: 0,
      pool: new Pool(url.origin, {
        connections: config.concurrency + 1,
        keepAliveTimeout: 30_000,
        headersTimeout: config.requestTimeoutMs,
        bodyTimeout: config.requestTimeoutMs,
        connect: url.protocol === 'https:' ? { ca: config.ca, rejectUnauthorized: config.tlsVerify } : undefined,
      }),
    }));
    if (config.apiKey) this.authorization = `ApiKey ${config.apiKey}`;
    else if (config.username !== undefined) this.authorization = `Basic ${Buffer.from(`${config.username}:${config.password ?? ''}`).toString('base64')}`;
  }

  /** The next live host (round-robin); if every host is set aside, the one that comes back soonest. */
  private pick(): Host {
    const now = Date.now();
    for (let i = 0; i < this.hosts.length; i++) {
      const host = this.hosts[(this.next + i) % this.hosts.length];
      if (host.deadUntil <= now) {
        this.next = (this.next + i + 1) % this.hosts.length;
        return host;
      }
    }
    return this.hosts.reduce((a, b) => (a.deadUntil <= b.deadUntil ? a : b));
  }

  get hostLabels(): string[] {
    return this.hosts.map((h) => h.label);
  }

  allDead(): boolean {
    const now = Date.now();
    return this.hosts.every((h) => h.deadUntil > now);
  }

  /** `raw`: keep the response as bytes (`bytes`) and leave `body` empty — bulk responses are large and mostly unread. */
  async request(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}, raw = false): Promise<HttpResult> {
    const host = this.pick();
    const allHeaders: Record<string, string> = { ...headers };
    if (this.authorization) allHeaders.authorization = this.authorization;
    const prefix = host.url.pathname.endsWith('/') ? host.url.pathname.slice(0, -1) : host.url.pathname;
    try {
      const response = await host.pool.request({ method: method as 'GET', path: prefix + path, body, headers: allHeaders });
      const bytes = Buffer.from(await response.body.arrayBuffer());
      const text = raw ? '' : bytes.toString('utf8');
      if (response.statusCode >= 500 || response.statusCode === 429) host.deadUntil = response.statusCode === 429 ? 0 : Date.now() + this.config.deadHostRetryMs;
      else host.deadUntil = 0;
      return { kind: 'response', status: response.statusCode, body: text, bytes, headers: response.headers, host: host.label };
    } catch (error) {
      host.deadUntil = Date.now() + this.config.deadHostRetryMs;
      const err = error as NodeJS.ErrnoException;
      return { kind: 'error', error: `${err.code ?? err.name}: ${err.message}`, host: host.label };
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.pool.close().catch(() => undefined)));
  }
}
