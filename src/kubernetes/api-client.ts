/**
 * How to reach the API server: an explicit URL, the in-cluster service account, or a kubeconfig.
 *
 * Requests are plain HTTP GETs through one undici Agent (TLS settings fixed at start). Credentials are
 * fetched per request: the service-account token file is re-read each time, because the kubelet rotates
 * projected tokens (about hourly) by swapping the file, and a watch reconnects every few minutes anyway —
 * reading a 1 KB file that often costs nothing and a rotated token is never missed.
 */
import { readFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type * as https from 'node:https';
import { Agent, request, type Dispatcher } from 'undici';
import { UsageError } from '../cli/errors.js';
import type { KubernetesConfig } from './config.js';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface ApiRequestOptions {
  signal: AbortSignal;
  /** time to wait for response headers (and, for lists, the body) */
  timeoutMs: number;
  /** idle time allowed between body chunks; watches set it above their server-side timeout */
  bodyTimeoutMs?: number;
}

export interface ApiClient {
  /** e.g. `https://10.96.0.1:443` (no trailing slash) */
  readonly server: string;
  /** where the settings came from, for logs: `in-cluster`, `kubeconfig ~/.kube/config`, `apiServer` */
  readonly source: string;
  /** false: the server's certificate is not checked (warned about at start) */
  readonly tlsVerify: boolean;
  get(pathAndQuery: string, options: ApiRequestOptions): Promise<Dispatcher.ResponseData>;
  close(): Promise<void>;
}

export interface ApiClientSettings {
  server: string;
  source: string;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized?: boolean;
  servername?: string;
  /** headers per request (Authorization); called once per request, never per record */
  headers?: () => Promise<Record<string, string>>;
}

export function createApiClient(settings: ApiClientSettings): ApiClient {
  const server = settings.server.replace(/\/+$/, '');
  const agent = new Agent({
    connect: {
      ca: settings.ca,
      cert: settings.cert,
      key: settings.key,
      rejectUnauthorized: settings.rejectUnauthorized ?? true,
      servername: settings.servername,
      timeout: 10_000,
    },
    keepAliveTimeout: 30_000,
  });
  return {
    server,
    source: settings.source,
    tlsVerify: settings.rejectUnauthorized ?? true,
    async get(pathAndQuery, options) {
      const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'logferry' };
      if (settings.headers) Object.assign(headers, await settings.headers());
      return request(server + pathAndQuery, {
        method: 'GET',
        dispatcher: agent,
        headers,
        signal: options.signal,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.bodyTimeoutMs ?? options.timeoutMs,
      });
    },
    close: () => agent.close(),
  };
}

/** `Authorization: Bearer <token>` from a file read at each call; no header if the file is missing. */
export function bearerTokenFile(path: string): () => Promise<Record<string, string>> {
  return async (): Promise<Record<string, string>> => {
    let token: string;
    try {
      token = (await readFile(path, 'utf8')).trim();
    } catch {
      return {};
    }
    return token.length > 0 ? { authorization: `Bearer ${token}` } : {};
  };
}

export interface ResolveOptions {
  env: NodeJS.ProcessEnv;
  /** tests point this at a temporary directory; default {@link SERVICE_ACCOUNT_DIR} */
  serviceAccountDir?: string;
  /** default ~ (for ~/.kube/config) */
  home?: string;
}

function readCa(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`kubernetes.${key}: cannot read ${path} (${(error as Error).message})`);
  }
}

/** Traffic to these never leaves the machine (a `kubectl proxy`, a test server). */
function isLoopback(hostname: string): boolean {
  const name = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return name === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(name) || name === '::1';
}

/**
 * A token sent over plain HTTP to another machine can be read by anyone on the path, and a service
 * account token is a key to the cluster: refused unless the configuration says the risk is known.
 */
function refuseTokenInClear(server: string, setting: string, config: KubernetesConfig): void {
  const url = new URL(server);
  if (url.protocol !== 'http:' || isLoopback(url.hostname) || config.allowInsecureCredentials) return;
  throw new UsageError(
    `${setting}: the API server ${url.origin} is plain HTTP and the bearer token would travel in clear text; use its https:// address, ` +
      'or accept the risk explicitly with kubernetes.allowInsecureCredentials: true',
  );
}

function hostPort(host: string, port: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The API client the configuration and environment describe, or undefined when there is none (not in a
 * cluster and no kubeconfig): then enrichment is off and records keep their file-name metadata.
 * Order: `kubeconfig` key; `apiServer` key; in-cluster (KUBERNETES_SERVICE_HOST + token); KUBECONFIG;
 * ~/.kube/config.
 */
export async function resolveApiClient(config: KubernetesConfig, options: ResolveOptions): Promise<ApiClient | undefined> {
  const saDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const tokenFile = config.tokenFile ?? join(saDir, 'token');
  const caFile = config.caFile ?? join(saDir, 'ca.crt');
  if (config.kubeconfig !== undefined) return fromKubeconfig(config.kubeconfig, config, 'kubernetes.kubeconfig');
  if (config.apiServer !== undefined) {
    const url = new URL(config.apiServer);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new UsageError(`kubernetes.apiServer: scheme must be http or https (got ${JSON.stringify(config.apiServer)})`);
    }
    const ca = config.caFile !== undefined ? readCa(caFile, 'caFile') : url.protocol === 'https:' && existsSync(caFile) ? readCa(caFile, 'caFile') : undefined;
    const withToken = config.tokenFile !== undefined || existsSync(tokenFile);
    if (withToken) refuseTokenInClear(config.apiServer, 'kubernetes.apiServer', config);
    return createApiClient({
      server: config.apiServer,
      source: 'apiServer',
      ca,
      rejectUnauthorized: !config.insecureSkipTlsVerify,
      headers: withToken ? bearerTokenFile(tokenFile) : undefined,
    });
  }
  const host = options.env.KUBERNETES_SERVICE_HOST;
  if (host !== undefined && host !== '' && existsSync(tokenFile)) {
    const port = options.env.KUBERNETES_SERVICE_PORT ?? '443';
    return createApiClient({
      server: `https://${hostPort(host, port)}`,
      source: 'in-cluster',
      ca: existsSync(caFile) ? readCa(caFile, 'caFile') : undefined,
      rejectUnauthorized: !config.insecureSkipTlsVerify,
      headers: bearerTokenFile(tokenFile),
    });
  }
  const envPath = options.env.KUBECONFIG;
  if (envPath !== undefined && envPath !== '') return fromKubeconfig(envPath, config, 'KUBECONFIG');
  const homePath = join(options.home ?? homedir(), '.kube', 'config');
  if (existsSync(homePath)) return fromKubeconfig(homePath, config, 'the default kubeconfig');
  return undefined;
}

/**
 * Kubeconfig parsing, contexts, client certificates and exec/OIDC credential plugins are delegated to
 * @kubernetes/client-node's KubeConfig (loaded lazily: only outside a cluster). Only loading is used; the
 * requests themselves stay on undici like everything else.
 */
async function fromKubeconfig(paths: string, config: KubernetesConfig, setting: string): Promise<ApiClient> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  const files = paths.split(process.platform === 'win32' ? ';' : ':').filter(Boolean);
  try {
    kc.loadFromFile(files[0]);
    for (const extra of files.slice(1)) {
      const more = new KubeConfig();
      more.loadFromFile(extra);
      kc.mergeConfig(more, true);
    }
  } catch (error) {
    throw new UsageError(`${setting}: cannot load ${paths} (${firstLine(error)})`);
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new UsageError(`${setting}: ${paths} has no current context or cluster; set current-context (kubectl config use-context NAME)`);
  const where = `${setting} ${files[0]}, cluster ${JSON.stringify(cluster.name)}`;
  if (!/^https?:\/\//i.test(cluster.server)) throw new UsageError(`${where}: server ${JSON.stringify(cluster.server)} is not an http(s):// URL`);
  const server = config.apiServer ?? cluster.server;
  const plainHttp = new URL(server).protocol === 'http:';
  if (plainHttp && !cluster.skipTLSVerify && config.apiServer === undefined) {
    // @kubernetes/client-node refuses this too, with a stack trace; say what to do instead.
    throw new UsageError(
      `${where}: server ${cluster.server} is plain HTTP, so the kubeconfig's credentials would travel in clear text; ` +
        "use the API server's https:// address (for a local `kubectl proxy`, set kubernetes.apiServer: http://127.0.0.1:8001 instead of a kubeconfig)",
    );
  }
  const tls: https.RequestOptions = {};
  try {
    await kc.applyToHTTPSOptions(tls);
  } catch (error) {
    throw new UsageError(`${where}: cannot use its credentials or certificates (${firstLine(error)})`);
  }
  if (plainHttp && tls.headers !== undefined && Object.keys(tls.headers).length > 0) refuseTokenInClear(server, where, config);
  return createApiClient({
    server,
    source: `kubeconfig ${files[0]}`,
    ca: tls.ca as Buffer | undefined,
    cert: tls.cert as Buffer | undefined,
    key: tls.key as Buffer | undefined,
    servername: tls.servername ?? undefined,
    rejectUnauthorized: config.insecureSkipTlsVerify ? false : (tls.rejectUnauthorized ?? true),
    async headers() {
      // Re-applied per request: exec plugins and token files refresh credentials on their own schedule.
      const opts: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(opts);
      const out: Record<string, string> = {};
      for (const [name, value] of Object.entries(opts.headers ?? {})) if (value !== undefined) out[name.toLowerCase()] = String(value);
      if (opts.auth) out.authorization = 'Basic ' + Buffer.from(opts.auth).toString('base64');
      return out;
    },
  });
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0].trim();
}
