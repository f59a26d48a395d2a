/**
 * A minimal Elasticsearch bulk endpoint: answers `GET /` like a cluster, accepts templates, and answers
 * `_bulk` (gzip or not) with a correct per-item response — each item's `_index`, `_id` and status, in
 * order, in the short form when the request asks for `filter_path`. Used by the benchmarks (as the null
 * sink: the receiving side costs next to nothing) and by the sink's tests, which script its answers to
 * get what a real cluster will not produce on demand (429 for chosen items, 503 with Retry-After, 413).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface BulkItemRequest {
  op: string;
  index: string;
  id: string;
  /** how many times this id was seen, this one included */
  attempt: number;
  document: string;
}

export type ItemAnswer = number | { status: number; type?: string; reason?: string };

export interface WholeAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface BulkEndpointOptions {
  /** `GET /` version; default 8.15.0 */
  version?: string;
  distribution?: 'elasticsearch' | 'opensearch';
  /** per item: default 201 (409 for an id already stored) */
  item?(request: BulkItemRequest): ItemAnswer | undefined;
  /** per bulk request (1-based): answer it as a whole instead (e.g. 503) */
  request?(n: number, items: BulkItemRequest[]): WholeAnswer | undefined;
  /** remember stored ids (for 409 on replays); off for benchmarks */
  remember?: boolean;
  /** hold each bulk answer this long (to see concurrency, or a timeout): ms, or ms per request number */
  answerDelayMs?: number | ((n: number) => number);
  /** whether `GET /_data_stream/<name>` exists (404 = yes, not yet; 405 = no such API) */
  dataStreams?: boolean;
  /** the Authorization header every request must carry (401 otherwise) */
  authorization?: string;
  /** default: any free port */
  port?: number;
}

export interface BulkEndpoint {
  url: string;
  server: Server;
  /** every bulk request: its items (ids) and when it came */
  requests: Array<{ ids: string[]; at: number; gzip: boolean; bytes: number }>;
  templates: string[];
  stored: Map<string, { index: string; document: string }>;
  stats: { requests: number; items: number; bytes: number; inflight: number; maxInflight: number };
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

/** `"key":"value"` from an action line without parsing it (the sink and most clients write them compactly). */
function field(line: string, key: string): string {
  const at = line.indexOf(`"${key}":"`);
  if (at < 0) return '';
  const start = at + key.length + 4;
  return line.slice(start, line.indexOf('"', start));
}

export function startBulkEndpoint(options: BulkEndpointOptions = {}): Promise<BulkEndpoint> {
  const attempts = new Map<string, number>();
  const endpoint: Omit<BulkEndpoint, 'url' | 'server' | 'close'> = {
    requests: [],
    templates: [],
    stored: new Map(),
    stats: { requests: 0, items: 0, bytes: 0, inflight: 0, maxInflight: 0 },
  };
  const remember = options.remember ?? true;

  const bulk = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    const gzip = req.headers['content-encoding'] === 'gzip';
    const text = (gzip ? gunzipSync(raw) : raw).toString('utf8');
    const short = (req.url ?? '').includes('filter_path=');
    const items: BulkItemRequest[] = [];
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const action = text.slice(start, end);
      start = end + 1;
      if (action.trim() === '') continue;
      end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const document = text.slice(start, end);
      start = end + 1;
      const op = action.slice(2, action.indexOf('"', 2));
      const id = field(action, '_id');
      const attempt = remember ? (attempts.get(id) ?? 0) + 1 : 1;
      if (remember) attempts.set(id, attempt);
      items.push({ op, index: field(action, '_index'), id, attempt, document });
    }
    endpoint.stats.requests++;
    endpoint.stats.items += items.length;
    endpoint.stats.bytes += raw.length;
    if (remember) endpoint.requests.push({ ids: items.map((i) => i.id), at: Date.now(), gzip, bytes: raw.length });
    const whole = options.request?.(endpoint.stats.requests, items);
    if (whole !== undefined)
      return json(
        res,
        whole.status,
        whole.body ?? JSON.stringify({ error: { type: 'injected', reason: `status ${whole.status}` }, status: whole.status }),
        whole.headers,
      );
    let errors = false;
    const out: string[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const scripted = options.item?.(item);
      let status = typeof scripted === 'number' ? scripted : (scripted?.status ?? 201);
      let error =
        typeof scripted === 'object'
          ? { type: scripted.type ?? 'injected', reason: scripted.reason ?? `status ${status}` }
          : status >= 300
            ? { type: 'injected', reason: `status ${status}` }
            : undefined;
      if (status === 201 && remember && item.op === 'create' && endpoint.stored.has(item.id)) {
        status = 409;
        error = { type: 'version_conflict_engine_exception', reason: `[${item.id}]: version conflict, document already exists (current version [1])` };
      }
      if (status === 201 && remember) endpoint.stored.set(item.id, { index: item.index, document: item.document });
      if (status >= 300) errors = true;
      const e = error !== undefined ? `,"error":${JSON.stringify(error)}` : '';
      out[i] = short
        ? `{"${item.op}":{"status":${status}${e}}}`
        : `{"${item.op}":{"_index":${JSON.stringify(item.index)},"_type":"_doc","_id":${JSON.stringify(item.id)},"_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1,"status":${status}${e}}}`;
    }
    const answer = `{${short ? '' : '"took":1,'}"errors":${errors},"items":[${out.join(',')}]}`;
    const delay = typeof options.answerDelayMs === 'function' ? options.answerDelayMs(endpoint.stats.requests) : (options.answerDelayMs ?? 0);
    if (delay <= 0) return json(res, 200, answer);
    endpoint.stats.inflight++;
    endpoint.stats.maxInflight = Math.max(endpoint.stats.maxInflight, endpoint.stats.inflight);
    setTimeout(() => {
      endpoint.stats.inflight--;
      if (!res.destroyed) json(res, 200, answer);
    }, delay);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      if (options.authorization !== undefined && req.headers.authorization !== options.authorization) {
        return json(res, 401, '{"error":{"type":"security_exception","reason":"unable to authenticate user"},"status":401}');
      }
      if (req.method === 'GET' && path === '/') {
        return json(
          res,
          200,
          JSON.stringify({
            name: 'bulk-endpoint',
            version: { number: options.version ?? '8.15.0', distribution: options.distribution, build_flavor: 'default' },
            tagline: 'You Know, for Search',
          }),
        );
      }
      if (req.method === 'POST' && path.endsWith('/_bulk')) return bulk(req, res, Buffer.concat(chunks));
      if (req.method === 'PUT' && (path.startsWith('/_index_template/') || path.startsWith('/_template/'))) {
        endpoint.templates.push(path);
        return json(res, 200, '{"acknowledged":true}');
      }
      if (req.method === 'GET' && path.startsWith('/_data_stream/')) {
        if (options.dataStreams === false)
          return json(res, 405, '{"error":"Incorrect HTTP method for uri [/_data_stream/x] and method [GET], allowed: [POST]","status":405}');
        return json(res, 404, '{"error":{"type":"index_not_found_exception"},"status":404}');
      }
      if (path === '/_stats') return json(res, 200, JSON.stringify(endpoint.stats));
      json(res, 404, '{"error":"no handler","status":404}');
    });
  });
  return new Promise((resolve) =>
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      resolve({
        ...endpoint,
        url: `http://127.0.0.1:${address.port}`,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    }),
  );
}
