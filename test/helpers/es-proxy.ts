/**
 * A small HTTP proxy in front of a real Elasticsearch/OpenSearch, for faults the server will not make on
 * demand and for the setups users put in front of one:
 *  - `pass`: forward everything;
 *  - `reject429`: answer every `_bulk` with HTTP 429 (a rejected request as a whole), store nothing;
 *  - `items429`: forward only every other document of a `_bulk` and answer 429 for the others, in the
 *    answer the server gave for the rest (a partial bulk, as a busy cluster answers);
 *  - `blackhole`: forward `_bulk` and let the server store it, then never answer (the client's request
 *    stays open): documents stored, nothing acknowledged;
 *  - `reset`: forward `_bulk`, wait for the server's answer, then cut the client's connection.
 * Options for proxies in front of clusters: a path prefix the cluster sits under, query parameters and
 * headers that must come with every request (stripped before forwarding; 404/400/401 when missing).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

export type ProxyMode = 'pass' | 'reject429' | 'items429' | 'blackhole' | 'reset';

export interface EsProxyOptions {
  upstream: string;
  /** requests must start with this path (`/es`) */
  prefix?: string;
  /** query parameters every request must carry */
  requireQuery?: Record<string, string>;
  /** headers every request must carry (names lower-case) */
  requireHeaders?: Record<string, string>;
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface EsProxy {
  url: string;
  mode: ProxyMode;
  /** every request received, in order */
  seen: SeenRequest[];
  /** `_bulk` requests by what the proxy did with them (counted on arrival); `unanswered`: blackholed ones the server has answered */
  counts: Record<ProxyMode, number> & { upstreamDown: number; unanswered: number };
  /** awaited after a `_bulk` was forwarded in `blackhole` or `reset` mode (stored), before the client hears anything */
  afterStored?: () => Promise<void>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface Upstream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function forward(upstream: URL, method: string, path: string, headers: Record<string, string | string[] | undefined>, body: Buffer): Promise<Upstream> {
  return new Promise((resolve, reject) => {
    const out = { ...headers };
    delete out.host;
    delete out.connection;
    out['content-length'] = String(body.length);
    const req = httpRequest({ hostname: upstream.hostname, port: upstream.port, method, path, headers: out }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Forward the even documents of an NDJSON bulk body; the odd ones get 429 items in the merged answer. */
async function halfBulk(upstream: URL, path: string, headers: Record<string, string | string[] | undefined>, raw: Buffer, res: ServerResponse): Promise<void> {
  const text = (headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
  const lines = text.split('\n').filter((l) => l !== '');
  const pairs: string[][] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) pairs.push([lines[i], lines[i + 1]]);
  const kept = pairs.filter((_, i) => i % 2 === 0);
  const { 'content-encoding': _encoding, ...plain } = headers;
  // Without filter_path: the answer must have every item to merge (the client's filter is applied below as given).
  const unfiltered = path.replace(/([?&])filter_path=[^&]*&?/, '$1').replace(/[?&]$/, '');
  const answer = await forward(upstream, 'POST', unfiltered, plain, Buffer.from(kept.map((p) => p.join('\n')).join('\n') + '\n'));
  if (answer.status !== 200) return reply(res, answer.status, answer.body.toString('utf8'));
  const storedItems = (JSON.parse(answer.body.toString('utf8')) as { items: Array<Record<string, { status: number }>> }).items;
  const items = pairs.map((_, i) =>
    i % 2 === 0
      ? storedItems[i / 2]
      : { create: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'rejected execution (proxy: items429)' } } },
  );
  reply(res, 200, { errors: true, items });
}

export async function startEsProxy(options: EsProxyOptions): Promise<EsProxy> {
  const upstream = new URL(options.upstream);
  const sockets = new Set<Socket>();
  const proxy: EsProxy = {
    url: '',
    mode: 'pass',
    seen: [],
    counts: { pass: 0, reject429: 0, items429: 0, blackhole: 0, reset: 0, upstreamDown: 0, unanswered: 0 },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      proxy.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } });
      const url = new URL(req.url ?? '/', 'http://proxy');
      let path = url.pathname;
      if (options.prefix !== undefined) {
        if (!path.startsWith(options.prefix + '/') && path !== options.prefix) return reply(res, 404, { error: `proxy: not under ${options.prefix}` });
        path = path.slice(options.prefix.length) || '/';
      }
      for (const [key, value] of Object.entries(options.requireQuery ?? {})) {
        if (url.searchParams.get(key) !== value) return reply(res, 400, { error: `proxy: query parameter ${key}=${value} missing` });
        url.searchParams.delete(key);
      }
      for (const [key, value] of Object.entries(options.requireHeaders ?? {})) {
        if (req.headers[key] !== value) return reply(res, 401, { error: `proxy: header ${key} missing` });
      }
      const target = path + (url.searchParams.size > 0 ? `?${url.searchParams.toString()}` : '');
      const body = await readBody(req);
      const bulk = /\/_bulk$/.test(path) && req.method === 'POST';
      const mode = bulk ? proxy.mode : 'pass';
      if (bulk) proxy.counts[mode]++;
      if (mode === 'reject429') {
        return reply(res, 429, { error: { type: 'es_rejected_execution_exception', reason: 'rejected execution (proxy: reject429)' }, status: 429 });
      }
      if (mode === 'items429') return halfBulk(upstream, target, req.headers, body, res);
      const answer = await forward(upstream, req.method ?? 'GET', target, req.headers, body);
      if (mode === 'blackhole' || mode === 'reset') await proxy.afterStored?.();
      if (mode === 'blackhole') {
        proxy.counts.unanswered++;
        return; // stored upstream; the client waits for an answer that never comes
      }
      if (mode === 'reset') {
        req.socket.destroy();
        return;
      }
      const headers = { ...answer.headers };
      delete headers['transfer-encoding'];
      headers['content-length'] = String(answer.body.length);
      res.writeHead(answer.status, headers);
      res.end(answer.body);
    })().catch((error: Error) => {
      proxy.counts.upstreamDown++;
      if (!res.headersSent) reply(res, 502, { error: `proxy: ${error.message}` });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return proxy;
}
