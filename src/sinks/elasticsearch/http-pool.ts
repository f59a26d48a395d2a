/**
 * Keep-alive connections to one Elasticsearch host over Node's own `http`/`https` modules.
 *
 * Not undici: loading undici costs ~20 MB of resident memory (its HTTP parser is WebAssembly), a third
 * of an idle sidecar's budget, while Node's built-in client (native llhttp, already in the binary) costs
 * ~3 MB (measured: bare Node 39 MB, + undici 59 MB, + node:http 43 MB). Bulk requests are megabytes each,
 * so the per-request overhead of either client does not show in throughput.
 *
 * Two timeouts, each with its own error code, because they mean different things to the host set:
 * a connect timeout means the host is unreachable; a response timeout (no byte for `requestTimeoutMs`)
 * may be a busy cluster.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ResponseTooLargeError } from '../../core/connection-error.js';

export const CONNECT_TIMEOUT = 'ECONNECT_TIMEOUT';
export const RESPONSE_TIMEOUT = 'ERESPONSE_TIMEOUT';

export interface HttpPoolOptions {
  /** sockets at most; further requests wait for one */
  connections: number;
  /** an idle kept-alive socket is closed after this long */
  keepAliveMs: number;
  connectTimeoutMs: number;
  /** longest silence while waiting for the answer (headers or body) */
  requestTimeoutMs: number;
  /** for https hosts */
  tls?: { ca?: string[]; rejectUnauthorized: boolean; checkServerIdentity?: () => undefined };
  /**
   * An answer longer than this is cut off and the request fails (a proxy streaming something endless,
   * a search answer beyond any sane size): a log agent with a 96 MB heap must not buffer it. Default
   * {@link DEFAULT_MAX_RESPONSE_BYTES}.
   */
  maxResponseBytes?: number;
}

/** Bulk answers are filtered to errors (kilobytes); search answers are pages of records. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export interface PoolRequest {
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** overrides requestTimeoutMs for this request */
  timeoutMs?: number;
}

export interface PoolResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export class HttpPool {
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  private readonly inFlight = new Set<ClientRequest>();
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly origin: URL,
    private readonly options: HttpPoolOptions,
  ) {
    const agentOptions = { keepAlive: true, maxSockets: options.connections, maxFreeSockets: options.connections, timeout: options.keepAliveMs };
    if (origin.protocol === 'https:') {
      this.agent = new HttpsAgent({ ...agentOptions, ...options.tls });
      this.send = httpsRequest;
    } else {
      this.agent = new HttpAgent(agentOptions);
      this.send = httpRequest;
    }
  }

  request(request: PoolRequest): Promise<PoolResponse> {
    const { origin, options } = this;
    return new Promise<PoolResponse>((resolve, reject) => {
      const headers: OutgoingHttpHeaders = { ...request.headers };
      if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body);
      const req = this.send({
        protocol: origin.protocol,
        hostname: origin.hostname.replace(/^\[|\]$/g, ''),
        port: origin.port,
        method: request.method,
        path: request.path,
        headers,
        agent: this.agent,
      });
      this.inFlight.add(req);
      let connectTimer: NodeJS.Timeout | undefined;
      const done = () => {
        if (connectTimer !== undefined) clearTimeout(connectTimer);
        this.inFlight.delete(req);
        if (this.inFlight.size === 0) this.wakeIdleWaiters();
      };
      req.on('socket', (socket) => {
        // A reused keep-alive socket is already connected; a new one gets the connect timeout.
        if (!socket.connecting) return;
        connectTimer = setTimeout(
          () => req.destroy(codedError(CONNECT_TIMEOUT, `connect to ${origin.host} timed out after ${options.connectTimeoutMs} ms`)),
          options.connectTimeoutMs,
        );
        socket.once('connect', () => clearTimeout(connectTimer));
      });
      const timeoutMs = request.timeoutMs ?? options.requestTimeoutMs;
      req.setTimeout(timeoutMs, () => req.destroy(codedError(RESPONSE_TIMEOUT, `no answer from ${origin.host} within ${timeoutMs} ms`)));
      req.on('error', (error) => {
        done();
        reject(error);
      });
      req.on('response', (response) => {
        const chunks: Buffer[] = [];
        const limit = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > limit) {
            chunks.length = 0;
            const error = new ResponseTooLargeError(limit, `the answer of ${origin.host} to ${request.method} ${request.path.split('?')[0]}`);
            done();
            reject(error);
            // Destroying the request (not only the response) closes the socket: it must not be reused mid-answer.
            req.destroy(error);
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', (error) => {
          done();
          reject(error);
        });
        response.on('end', () => {
          done();
          resolve({ statusCode: response.statusCode ?? 0, headers: response.headers, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) });
        });
      });
      req.end(request.body);
    });
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Let requests in flight finish, then close every socket. */
  async close(): Promise<void> {
    if (this.inFlight.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.agent.destroy();
  }

  /** Abort requests in flight and close every socket. */
  async destroy(): Promise<void> {
    for (const req of this.inFlight) req.destroy(codedError('ECANCELED', `request to ${this.origin.host} aborted: the client is closing`));
    this.inFlight.clear();
    this.wakeIdleWaiters();
    this.agent.destroy();
  }
}
