/**
 * A small Kubernetes API server for tests: a real HTTP(S) server on 127.0.0.1 speaking the protocol the
 * agent relies on, for core/v1 pods and namespaces:
 *   - list: `{kind: PodList, metadata: {resourceVersion}, items}` (items without kind/apiVersion, as real);
 *   - watch (`watch=true`): a chunked stream of `{"type":..., "object":...}` lines, replaying history after
 *     the requested resourceVersion, synthetic ADDED events for resourceVersion 0/unset, BOOKMARKs when
 *     `allowWatchBookmarks=true`, `timeoutSeconds`; a version older than the retained history gets
 *     410 — as an ERROR event carrying a Status (what watch caches do) or, optionally, as the HTTP status;
 *   - fieldSelector (`=`, `==`, `!=` on supported fields; 400 for others), applied to watch events the way
 *     the watch cache does: an object that starts matching is ADDED, one that stops matching is DELETED;
 *   - bearer-token authentication (401 Status otherwise);
 * plus controls for tests (mutations, cut streams, compaction, outages) and a request log.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { INamespace, IPod } from './fake-kube-objects.js';

export type Resource = 'pods' | 'namespaces';
type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
type KubeObject = IPod | INamespace;

export interface RequestLogEntry {
  at: number;
  method: string;
  path: string;
  resource: Resource | undefined;
  verb: 'list' | 'watch' | 'other';
  query: Record<string, string>;
  status: number;
  authorization: string | undefined;
}

export interface FakeKubeApiServerOptions {
  /** accepted bearer tokens; default ['test-token'] */
  tokens?: string[];
  /** serve HTTPS with this key and certificate (PEM) */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** events kept per server for watch resumption (the watch cache's window); default 1000 */
  historyLimit?: number;
}

interface StoredEvent {
  rv: number;
  resource: Resource;
  type: EventType;
  object: KubeObject;
  previous: KubeObject | undefined;
}

type Selector = Array<{ field: string; op: '=' | '!='; value: string }>;

interface WatchConnection {
  resource: Resource;
  namespace: string | undefined;
  selector: Selector;
  bookmarks: boolean;
  res: ServerResponse;
  timer: NodeJS.Timeout;
}

const FIELDS: Record<Resource, Set<string>> = {
  pods: new Set([
    'metadata.name',
    'metadata.namespace',
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ]),
  namespaces: new Set(['metadata.name', 'status.phase']),
};
const KIND: Record<Resource, string> = { pods: 'Pod', namespaces: 'Namespace' };

function statusBody(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function fieldValue(object: KubeObject, field: string): string {
  let value: unknown = object;
  for (const part of field.split('.')) value = value === undefined || value === null ? undefined : (value as Record<string, unknown>)[part];
  return value === undefined || value === null ? '' : String(value);
}

function matches(object: KubeObject | undefined, selector: Selector, namespace: string | undefined): boolean {
  if (object === undefined) return false;
  if (namespace !== undefined && object.metadata?.namespace !== namespace) return false;
  return selector.every((term) => (fieldValue(object, term.field) === term.value) === (term.op === '='));
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export class FakeKubeApiServer {
  readonly requests: RequestLogEntry[] = [];
  /** connections accepted and dropped at once while down in 'reset' mode */
  rejectedConnections = 0;
  /** completed {@link restart} calls */
  restarts = 0;
  /** answer an expired watch version with HTTP 410 instead of an ERROR event */
  goneAsHttpStatus = false;
  private readonly tokens: Set<string>;
  private readonly historyLimit: number;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly watches = new Set<WatchConnection>();
  private readonly objects: Record<Resource, Map<string, KubeObject>> = { pods: new Map(), namespaces: new Map() };
  /** per resource, like the API server's watch caches */
  private readonly history: Record<Resource, StoredEvent[]> = { pods: [], namespaces: [] };
  private rv = 1000;
  private readonly compactedRv: Record<Resource, number> = { pods: 1000, namespaces: 1000 };
  private mode: 'up' | 'refuse' | 'reset' = 'up';
  private port = 0;
  readonly scheme: 'http' | 'https';

  private constructor(options: FakeKubeApiServerOptions) {
    this.tokens = new Set(options.tokens ?? ['test-token']);
    this.historyLimit = options.historyLimit ?? 1000;
    this.scheme = options.tls ? 'https' : 'http';
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    this.server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createHttpServer(handler);
    this.server.on('connection', (socket: Socket) => {
      if (this.mode === 'reset') {
        this.rejectedConnections++;
        socket.destroy();
        return;
      }
      // Accepted in the instant between goDown('refuse') and the listener closing: a stopped server
      // serves nothing (and an open socket would keep server.close() waiting).
      if (this.mode === 'refuse') {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(options: FakeKubeApiServerOptions = {}): Promise<FakeKubeApiServer> {
    const fake = new FakeKubeApiServer(options);
    await fake.listen();
    return fake;
  }

  get url(): string {
    return `${this.scheme}://127.0.0.1:${this.port}`;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  get activeWatches(): number {
    return this.watches.size;
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

  // ---- assertions --------------------------------------------------------------------------------

  count(verb: 'list' | 'watch', resource?: Resource, since = 0): number {
    return this.requests.filter((r) => r.at >= since && r.verb === verb && (resource === undefined || r.resource === resource)).length;
  }

  requestsFor(verb: 'list' | 'watch', resource?: Resource): RequestLogEntry[] {
    return this.requests.filter((r) => r.verb === verb && (resource === undefined || r.resource === resource));
  }

  // ---- controls ----------------------------------------------------------------------------------

  setTokens(tokens: string[]): void {
    this.tokens.clear();
    for (const token of tokens) this.tokens.add(token);
  }

  addPod(pod: IPod): IPod {
    return this.mutate('pods', 'ADDED', clone(pod)) as IPod;
  }

  updatePod(namespace: string, name: string, change: (pod: IPod) => void): IPod {
    const current = this.objects.pods.get(`${namespace}/${name}`);
    if (current === undefined) throw new Error(`fake API: no pod ${namespace}/${name}`);
    const next = clone(current) as IPod;
    change(next);
    return this.mutate('pods', 'MODIFIED', next) as IPod;
  }

  /** Graceful by default, like `kubectl delete`: MODIFIED with deletionTimestamp, then DELETED. */
  deletePod(namespace: string, name: string, options: { graceful?: boolean } = {}): void {
    if (options.graceful ?? true) {
      this.updatePod(namespace, name, (pod) => {
        pod.metadata!.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        pod.metadata!.deletionGracePeriodSeconds = 30;
      });
    }
    this.remove('pods', `${namespace}/${name}`);
  }

  pod(namespace: string, name: string): IPod | undefined {
    const pod = this.objects.pods.get(`${namespace}/${name}`);
    return pod === undefined ? undefined : (clone(pod) as IPod);
  }

  addNamespace(namespace: INamespace): INamespace {
    return this.mutate('namespaces', 'ADDED', clone(namespace)) as INamespace;
  }

  updateNamespace(name: string, change: (ns: INamespace) => void): INamespace {
    const current = this.objects.namespaces.get(name);
    if (current === undefined) throw new Error(`fake API: no namespace ${name}`);
    const next = clone(current) as INamespace;
    change(next);
    return this.mutate('namespaces', 'MODIFIED', next) as INamespace;
  }

  deleteNamespace(name: string): void {
    this.remove('namespaces', name);
  }

  /** A BOOKMARK at the current resourceVersion to every watch that asked for bookmarks. */
  sendBookmark(): void {
    for (const watch of this.watches) {
      if (!watch.bookmarks) continue;
      watch.res.write(
        JSON.stringify({ type: 'BOOKMARK', object: { kind: KIND[watch.resource], apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } } }) + '\n',
      );
    }
  }

  /** Breaks every watch stream: by default a reset connection; `clean` ends the responses normally. */
  cutWatches(options: { clean?: boolean } = {}): number {
    const count = this.watches.size;
    for (const watch of [...this.watches]) this.endWatch(watch, !options.clean);
    return count;
  }

  /** Forgets the history (of one resource, or all): watches from any version older than now get 410. */
  compactHistory(resource?: Resource): void {
    for (const r of resource ? [resource] : (['pods', 'namespaces'] as const)) {
      this.history[r] = [];
      this.compactedRv[r] = this.rv;
    }
  }

  /**
   * An outage. 'refuse': stop listening (connections are refused); 'reset': accept and drop every
   * connection at once (so attempts can be counted in {@link rejectedConnections}). Open streams are cut.
   */
  async goDown(mode: 'refuse' | 'reset' = 'refuse'): Promise<void> {
    this.mode = mode;
    for (const watch of [...this.watches]) this.endWatch(watch, true);
    for (const socket of this.sockets) socket.destroy();
    if (mode === 'refuse') await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async comeUp(): Promise<void> {
    const wasRefusing = this.mode === 'refuse';
    this.mode = 'up';
    if (wasRefusing) await this.listen();
  }

  /**
   * A process restart of the API server: every connection dropped, connections refused for `downMs`,
   * then listening again on the same port with the same certificate, objects and resourceVersions (they
   * live in etcd; new changes continue the counter). The watch cache starts empty at the current version,
   * as a fresh kube-apiserver's does: a watch from that version resumes, one from any older version gets
   * 410 Gone and must relist.
   */
  async restart(options: { downMs?: number } = {}): Promise<void> {
    await this.goDown('refuse');
    this.compactHistory();
    this.restarts++;
    if ((options.downMs ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, options.downMs));
    await this.comeUp();
  }

  async close(): Promise<void> {
    for (const watch of [...this.watches]) this.endWatch(watch, true);
    for (const socket of this.sockets) socket.destroy();
    if (this.mode !== 'refuse') await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.mode = 'refuse';
  }

  // ---- state -------------------------------------------------------------------------------------

  private key(resource: Resource, object: KubeObject): string {
    return resource === 'pods' ? `${object.metadata?.namespace}/${object.metadata?.name}` : String(object.metadata?.name);
  }

  private mutate(resource: Resource, type: EventType, object: KubeObject): KubeObject {
    const key = this.key(resource, object);
    const previous = this.objects[resource].get(key);
    if (type === 'ADDED' && previous !== undefined) throw new Error(`fake API: ${resource} ${key} already exists`);
    object.metadata ??= {};
    object.metadata.uid ??= previous?.metadata?.uid ?? randomUUID();
    object.metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    object.metadata.resourceVersion = String(++this.rv);
    this.objects[resource].set(key, object);
    this.record({ rv: this.rv, resource, type, object, previous });
    return clone(object);
  }

  private remove(resource: Resource, key: string): void {
    const previous = this.objects[resource].get(key);
    if (previous === undefined) throw new Error(`fake API: no ${resource} ${key}`);
    this.objects[resource].delete(key);
    const object = clone(previous);
    object.metadata!.resourceVersion = String(++this.rv);
    this.record({ rv: this.rv, resource, type: 'DELETED', object, previous });
  }

  private record(event: StoredEvent): void {
    const history = this.history[event.resource];
    history.push(event);
    while (history.length > this.historyLimit) this.compactedRv[event.resource] = history.shift()!.rv;
    for (const watch of this.watches) if (watch.resource === event.resource) this.send(watch, event);
  }

  /** The watch cache's view of an event through a field selector. */
  private send(watch: WatchConnection, event: StoredEvent): void {
    const now = event.type !== 'DELETED' && matches(event.object, watch.selector, watch.namespace);
    const before = event.type !== 'ADDED' && matches(event.previous, watch.selector, watch.namespace);
    let type: EventType | undefined;
    if (event.type === 'DELETED') type = before ? 'DELETED' : undefined;
    else if (now && before) type = 'MODIFIED';
    else if (now) type = 'ADDED';
    else if (before) type = 'DELETED';
    if (type === undefined) return;
    watch.res.write(JSON.stringify({ type, object: { ...event.object, kind: KIND[watch.resource], apiVersion: 'v1' } }) + '\n');
  }

  private endWatch(watch: WatchConnection, abrupt: boolean): void {
    this.watches.delete(watch);
    clearTimeout(watch.timer);
    if (abrupt) watch.res.socket?.destroy();
    else watch.res.end();
  }

  // ---- HTTP --------------------------------------------------------------------------------------

  private reply(res: ServerResponse, entry: RequestLogEntry, status: number, body: unknown): void {
    entry.status = status;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const isWatch = query.watch === 'true' || query.watch === '1';
    const route = /^\/api\/v1\/(?:(pods)|(namespaces)|namespaces\/([^/]+)\/(pods))$/.exec(url.pathname);
    const resource: Resource | undefined = route ? ((route[1] ?? route[4] ?? route[2]) as Resource) : undefined;
    const namespace = route?.[3];
    const entry: RequestLogEntry = {
      at: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      resource,
      verb: resource === undefined ? 'other' : isWatch ? 'watch' : 'list',
      query,
      status: 0,
      authorization: req.headers.authorization,
    };
    this.requests.push(entry);
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !this.tokens.has(auth.slice(7))) return this.reply(res, entry, 401, statusBody(401, 'Unauthorized', 'Unauthorized'));
    if (resource === undefined) return this.reply(res, entry, 404, statusBody(404, 'NotFound', 'the server could not find the requested resource'));
    if (req.method !== 'GET')
      return this.reply(res, entry, 405, statusBody(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
    let selector: Selector;
    try {
      selector = this.parseSelector(resource, query.fieldSelector ?? '');
    } catch (error) {
      return this.reply(res, entry, 400, statusBody(400, 'BadRequest', (error as Error).message));
    }
    if (isWatch) return this.watch(res, entry, resource, namespace, selector, query);
    const items = [...this.objects[resource].entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => object)
      .filter((object) => matches(object, selector, namespace))
      .map(({ kind: _kind, apiVersion: _apiVersion, ...rest }) => rest);
    this.reply(res, entry, 200, { kind: `${KIND[resource]}List`, apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items });
  }

  private parseSelector(resource: Resource, text: string): Selector {
    const selector: Selector = [];
    for (const term of text.split(',').filter(Boolean)) {
      const match = /^([^!=]+)(==|!=|=)(.*)$/.exec(term);
      if (!match) throw new Error(`invalid field selector: ${JSON.stringify(term)}`);
      if (!FIELDS[resource].has(match[1])) throw new Error(`field label not supported: ${match[1]}`);
      selector.push({ field: match[1], op: match[2] === '!=' ? '!=' : '=', value: match[3] });
    }
    return selector;
  }

  private watch(
    res: ServerResponse,
    entry: RequestLogEntry,
    resource: Resource,
    namespace: string | undefined,
    selector: Selector,
    query: Record<string, string>,
  ): void {
    const requested = query.resourceVersion;
    const fromScratch = requested === undefined || requested === '' || requested === '0';
    const version = fromScratch ? this.rv : Number(requested);
    if (!Number.isInteger(version)) return this.reply(res, entry, 400, statusBody(400, 'BadRequest', `invalid resource version: ${requested}`));
    const tooOld = !fromScratch && version < this.compactedRv[resource];
    const gone = statusBody(410, 'Expired', `too old resource version: ${requested} (${this.compactedRv[resource] + 1})`);
    if (tooOld && this.goneAsHttpStatus) return this.reply(res, entry, 410, gone);
    entry.status = 200;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
    res.flushHeaders();
    if (tooOld) {
      res.end(JSON.stringify({ type: 'ERROR', object: gone }) + '\n');
      return;
    }
    const timeoutSeconds = Number(query.timeoutSeconds ?? '1800');
    const watch: WatchConnection = {
      resource,
      namespace,
      selector,
      bookmarks: query.allowWatchBookmarks === 'true',
      res,
      timer: setTimeout(() => this.endWatch(watch, false), timeoutSeconds * 1000),
    };
    if (fromScratch) {
      for (const object of this.objects[resource].values()) {
        if (matches(object, selector, namespace))
          res.write(JSON.stringify({ type: 'ADDED', object: { ...object, kind: KIND[resource], apiVersion: 'v1' } }) + '\n');
      }
    } else {
      for (const event of this.history[resource]) if (event.rv > version) this.send(watch, event);
    }
    this.watches.add(watch);
    res.on('close', () => {
      this.watches.delete(watch);
      clearTimeout(watch.timer);
    });
  }
}
