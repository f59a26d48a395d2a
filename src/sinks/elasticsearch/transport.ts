/**
 * HTTP to the cluster over {@link HostSet}: each request goes to the next live host; a connection-level
 * failure marks that host down. Failures come back as values, not exceptions. Used by the sink and by
 * the query backend (`logferry search` against Elasticsearch).
 */
import { classifyConnectionError, type ConnectionProblem } from '../../core/connection-error.js';
import type { ElasticsearchConfig } from './config.js';
import { HostSet, hostPath, isTlsError, isUnreachable, type EsHost, type HostEvents, type HostsConfig } from './hosts.js';

export type HttpResult =
  | {
      kind: 'response';
      status: number;
      /** the body as text; '' for `raw` requests (use `bytes`) */
      body: string;
      bytes: Buffer;
      headers: Record<string, string | string[] | undefined>;
      host: string;
    }
  | {
      kind: 'error';
      error: string;
      host: string;
      /** a certificate problem: the configuration must change */
      tls: boolean;
      /** what went wrong, in one word (refused, dns, response-timeout...): the reason label of failure metrics */
      problem: ConnectionProblem;
      /** the error code behind it (ECONNREFUSED, ERR_TLS_CERT_ALTNAME_INVALID...), when there is one */
      code?: string;
    };

export class Transport {
  readonly hostSet: HostSet;

  constructor(config: HostsConfig | ElasticsearchConfig, events: HostEvents = {}) {
    this.hostSet = new HostSet(config, events);
  }

  get hostLabels(): string[] {
    return this.hostSet.labels;
  }

  allDead(): boolean {
    return !this.hostSet.anyAlive();
  }

  /**
   * One request to the next live host (if every host is down, to one of them anyway: a one-off request
   * would rather try than wait). `raw`: keep the answer as bytes only — bulk responses are mostly unread.
   */
  async request(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}, raw = false): Promise<HttpResult> {
    return this.requestTo(this.hostSet.pickAny(), method, path, body, headers, raw);
  }

  async requestTo(host: EsHost, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}, raw = false): Promise<HttpResult> {
    const allHeaders = { ...host.headers, ...headers };
    if (host.authorization !== undefined) allHeaders.authorization = host.authorization;
    try {
      const response = await host.pool.request({ method, path: hostPath(host, path), body, headers: allHeaders });
      const bytes = response.body;
      this.hostSet.markUp(host);
      return { kind: 'response', status: response.statusCode, body: raw ? '' : bytes.toString('utf8'), bytes, headers: response.headers, host: host.label };
    } catch (error) {
      const reason = this.hostSet.describe(host, error);
      this.hostSet.markDown(host, reason, isUnreachable(error));
      const { problem, code } = classifyConnectionError(error);
      return { kind: 'error', error: reason, host: host.label, tls: isTlsError(error), problem, ...(code !== undefined ? { code } : {}) };
    }
  }

  /** `destroy`: abort requests in flight instead of waiting for them. */
  async close(destroy = false): Promise<void> {
    await this.hostSet.close(destroy);
  }
}
