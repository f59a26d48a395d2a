/**
 * A loopback HTTP proxy in front of Elasticsearch that plays its failures on command, instantly (no JVM
 * restart), so outages can be short, frequent and combined with everything else:
 *   - 'forward': pass everything through;
 *   - 'refuse':  the listener is closed and open connections are cut — connection refused, like a node
 *                that is down (the port stays ours: it listens again on the same one);
 *   - '503':     every request answered 503 (a cluster without a master);
 *   - '429':     every `_bulk` answered 429 es_rejected_execution_exception (a full write queue);
 *   - 'items429': `_bulk` items rejected one by one inside a 200 answer, as a node under write pressure
 *                does: the chosen items are NOT sent on (they really are not stored), the others are, and
 *                the answer says 429 for exactly the chosen ones, in request order.
 */
import { createServer, request as httpRequest, Agent, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { Rng } from './random.js';

export type ProxyMode = 'forward' | 'refuse' | '503' | '429' | 'items429';

export interface ProxyStats {
  requests: number;
  bulkRequests: number;
  /** bulk requests in 'items429' mode, and their items answered 429 inside a 200 answer */
  partialBulks: number;
  itemsRejected: number;
  answered503: number;
  answered429: number;
  /** connections cut when the listener closed */
  connectionsCut: number;
  upstreamErrors: number;
}

const REJECTED = {
  type: 'es_rejected_execution_exception',
  reason:
    'rejected execution of coordinating operation [coordinating_and_primary_bytes=104857600, replica_bytes=0, all_bytes=104857600, coordinating_operation_bytes=52428, max_coordinating_and_primary_bytes=107374182]',
};

export class FaultProxy {
  readonly stats: ProxyStats = {
    requests: 0,
    bulkRequests: 0,
    partialBulks: 0,
    itemsRejected: 0,
    answered503: 0,
    answered429: 0,
    connectionsCut: 0,
    upstreamErrors: 0,
  };
  private mode: ProxyMode = 'forward';
  private itemFraction = 0.3;
  private port = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly upstream: URL;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });

  private constructor(
    upstreamUrl: string,
    private readonly rng: Rng,
  ) {
    this.upstream = new URL(upstreamUrl);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        // A connection cut while we read or answered (the 'refuse' mode does that): nothing to answer.
        this.stats.upstreamErrors++;
        res.socket?.destroy();
      });
    });
    this.server.on('connection', (socket: Socket) => {
      if (this.mode === 'refuse') {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(upstreamUrl: string, rng: Rng): Promise<FaultProxy> {
    const proxy = new FaultProxy(upstreamUrl, rng);
    await proxy.listen();
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get currentMode(): ProxyMode {
    return this.mode;
  }

  async setMode(mode: ProxyMode, options: { itemFraction?: number } = {}): Promise<void> {
    if (options.itemFraction !== undefined) this.itemFraction = options.itemFraction;
    const previous = this.mode;
    this.mode = mode;
    if (mode === 'refuse' && previous !== 'refuse') {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.stats.connectionsCut += this.sockets.size;
      for (const socket of this.sockets) socket.destroy();
      await closed;
    } else if (mode !== 'refuse' && previous === 'refuse') {
      await this.listen();
    }
  }

  async close(): Promise<void> {
    await this.setMode('refuse');
    this.agent.destroy();
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body = Buffer.concat(chunks);
    const path = req.url ?? '/';
    const bulk = /\/_bulk(\?|$)/.test(path);
    if (bulk) this.stats.bulkRequests++;
    const mode = this.mode;
    if (mode === '503') {
      this.stats.answered503++;
      return this.json(res, 503, {
        error: { root_cause: [{ type: 'master_not_discovered_exception', reason: null }], type: 'master_not_discovered_exception', reason: null },
        status: 503,
      });
    }
    if (mode === '429' && bulk) {
      this.stats.answered429++;
      return this.json(res, 429, { error: { root_cause: [REJECTED], ...REJECTED }, status: 429 });
    }
    if (mode === 'items429' && bulk) {
      if (req.headers['content-encoding'] === 'gzip' && body.length > 0) body = gunzipSync(body);
      return this.partialBulk(req, res, path, body);
    }
    // Passed through as sent (gzip included): the proxy costs little CPU outside its fault modes.
    const answer = await this.forward(req.method ?? 'GET', path, req.headers, body);
    if (answer === undefined) return this.cut(res);
    this.pass(res, answer);
  }

  /** Some items answered 429 (and kept back), the rest stored; one answer in request order. */
  private async partialBulk(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): Promise<void> {
    this.stats.partialBulks++;
    const items = splitBulk(body);
    const rejected = items.map(() => this.rng.chance(this.itemFraction));
    const kept = items.filter((_, i) => !rejected[i]);
    let answers: unknown[] = [];
    if (kept.length > 0) {
      const forwardBody = Buffer.from(kept.map((item) => item.lines).join('\n') + '\n');
      const { 'content-encoding': _gzip, ...headers } = req.headers;
      const answer = await this.forward('POST', path, headers, forwardBody);
      if (answer === undefined) return this.cut(res);
      if (answer.status < 200 || answer.status >= 300) return this.pass(res, answer);
      answers = (JSON.parse(answer.body.toString('utf8')) as { items?: unknown[] }).items ?? [];
      if (answers.length !== kept.length) throw new Error(`proxy: Elasticsearch answered ${answers.length} items for ${kept.length}`);
    }
    let next = 0;
    const merged = items.map((item, i) => {
      if (!rejected[i]) return answers[next++];
      this.stats.itemsRejected++;
      return { [item.action]: { _index: item.index, _id: item.id, status: 429, error: REJECTED } };
    });
    // `errors` first: the agent decides "all stored" from the answer's first bytes.
    this.json(res, 200, { errors: rejected.some(Boolean) || JSON.stringify(answers).includes('"error"'), took: 3, items: merged });
  }

  /** Sent on with the client's content headers only: no accept-encoding, so answers come back plain. */
  private forward(method: string, path: string, from: IncomingHttpHeaders, body: Buffer): Promise<Upstream | undefined> {
    return new Promise((resolve) => {
      const headers: Record<string, string | number> = { 'content-length': body.length };
      for (const name of ['content-type', 'content-encoding', 'authorization']) {
        const value = from[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const upstream = httpRequest(
        { host: this.upstream.hostname, port: this.upstream.port, method, path, headers, agent: this.agent, timeout: 120_000 },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }));
          answer.on('error', () => resolve(undefined));
        },
      );
      upstream.on('timeout', () => upstream.destroy(new Error('upstream timeout')));
      upstream.on('error', () => {
        this.stats.upstreamErrors++;
        resolve(undefined);
      });
      upstream.end(body);
    });
  }

  private pass(res: ServerResponse, answer: Upstream): void {
    if (res.destroyed) return;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    headers['content-length'] = String(answer.body.length);
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  }

  /** Elasticsearch itself failed us: the client sees a cut connection, as it would from a dying node. */
  private cut(res: ServerResponse): void {
    res.socket?.destroy();
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade']);

interface BulkItem {
  action: string;
  index?: string;
  id?: string;
  /** the action line and its document line, as sent */
  lines: string;
}

/** Splits a bulk body into items: an action line, plus a document line unless it is a delete. */
function splitBulk(body: Buffer): BulkItem[] {
  const lines = body.toString('utf8').split('\n');
  const items: BulkItem[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '') continue;
    const header = JSON.parse(lines[i]) as Record<string, { _index?: string; _id?: string }>;
    const action = Object.keys(header)[0];
    const meta = header[action] ?? {};
    if (action === 'delete') items.push({ action, index: meta._index, id: meta._id, lines: lines[i] });
    else {
      items.push({ action, index: meta._index, id: meta._id, lines: `${lines[i]}\n${lines[i + 1]}` });
      i++;
    }
  }
  return items;
}
