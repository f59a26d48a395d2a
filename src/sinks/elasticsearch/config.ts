/**
 * Elasticsearch output settings: the config file's `output.elasticsearch` section, the environment, and
 * the merged, checked result the sink runs with.
 *
 * Precedence — the environment wins, key by key, for what the user set in it: it is what a manifest or
 * `kubectl set env` changes, so a config map must not silently shadow it.
 *  - hosts: any host variable replaces the file's `hosts` list as a whole;
 *  - credentials: `ELASTICSEARCH_USERNAME`/`_PASSWORD` or `ELASTICSEARCH_API_KEY` replace the file's `auth`
 *    as a whole (mixing a file API key with an environment password would be neither);
 *  - `ELASTICSEARCH_CA_FILE` replaces `tls.caFile`; `ELASTICSEARCH_TLS_VERIFY` replaces `tls.verify`;
 *  - everything else (index, bulk sizes, timeouts...) exists only in the file.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { z } from 'zod/v3';
import { UsageError } from '../../cli/errors.js';
import { ENV_VARS } from '../../config/env-vars.js';
import { hostProblem, parseHostUrl, readElasticsearchEnv } from './env.js';

const hostString = z.string().superRefine((value, ctx) => {
  const problem = hostProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

const indexName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._+-]*$/, 'an index name: lower-case letters, digits and . _ + - only, not starting with . _ + -')
  .max(200);

export const elasticsearchSinkConfigSchema = z.strictObject({
  /** base URLs, e.g. `https://es-1.example:9200`; a bare `host[:port]` means http (port 9200) */
  hosts: z.array(hostString).min(1).optional(),
  auth: z
    .strictObject({
      username: z.string().min(1).optional(),
      password: z.string().optional(),
      /** the encoded form Elasticsearch returns (base64 of `id:api_key`), or `id:api_key` itself */
      apiKey: z.string().min(1).optional(),
    })
    .optional(),
  tls: z
    .strictObject({
      /** PEM file with the CA that signed the cluster's certificate (added to the system's roots) */
      caFile: z.string().min(1).optional(),
      /** certificate and host name verification; turning it off must be explicit */
      verify: z.boolean().default(true),
    })
    .optional(),
  /** daily indices `<index>-YYYY.MM.DD` from each record's own UTC date */
  index: indexName.default('logstash'),
  /** write to this data stream instead of daily indices, e.g. `logs-kubernetes.container_logs-default` */
  dataStream: indexName.optional(),
  /** rejected documents go to `<deadLetterIndex>-YYYY.MM.DD` */
  deadLetterIndex: indexName.default('logferry-deadletter'),
  /** install the index templates at start (`false` when the cluster's templates are managed elsewhere) */
  installTemplate: z.boolean().default(true),
  /**
   * a lifecycle policy for what logferry writes: ILM on Elasticsearch, ISM on OpenSearch, installed at start
   * with the templates and attached by them (rollover applies to data streams; daily indices are deleted by age)
   */
  lifecycle: z
    .strictObject({
      /** install the policy at start (`false`: attach a policy of this name managed elsewhere) */
      install: z.boolean().default(true),
      /** the policy's name */
      policy: indexName.default('logferry-logs'),
      /** roll a data stream's write index over at this primary shard size (Elasticsearch size units) */
      rolloverMaxSize: z
        .string()
        .regex(/^\d+(b|kb|mb|gb|tb|pb)$/, 'a size such as 50gb')
        .default('50gb'),
      /** ... or at this age (Elasticsearch time units) */
      rolloverMaxAge: z
        .string()
        .regex(/^\d+(d|h|m|s)$/, 'an age such as 1d or 12h')
        .default('1d'),
      /** indices are deleted this many days after their rollover (data streams) or creation (daily indices) */
      deleteAfterDays: z.number().int().min(1).max(36500).default(30),
    })
    .optional(),
  /**
   * extra HTTP headers on every request (a proxy's token, a tenant); `authorization` and `content-type` are
   * logferry's own. The hosts' URLs may carry a path and a query string (`https://proxy/es?tenant=a`), kept too
   */
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_|~-]+$/, 'an HTTP header name'), z.string().regex(/^[^\r\n]*$/, 'a header value on one line'))
    .refine((h) => !Object.keys(h).some((k) => ['authorization', 'content-type', 'content-length', 'content-encoding', 'host'].includes(k.toLowerCase())), {
      message: 'authorization, content-type, content-length, content-encoding and host are set by logferry',
    })
    .optional(),
  /**
   * after a restart, this many bytes of records (bulk NDJSON) are looked up by `_id` across the target's
   * indices before they are sent, so a replay after a rollover or UTC midnight is not stored twice
   * (default: 4 × pipeline.maxInflightBytes; 0: no lookup; none on a first start, which replays nothing)
   */
  replayCheckBytes: z.number().int().min(0).optional(),
  /** a bulk request is sent once its body would pass this many bytes (uncompressed NDJSON) */
  bulkMaxBytes: z
    .number()
    .int()
    .min(1024)
    .max(512 * 1024 * 1024)
    .default(5 * 1024 * 1024),
  /** ... or once it holds this many records */
  bulkMaxRecords: z.number().int().min(1).max(1_000_000).default(10_000),
  /** ... or this long after its first record */
  flushIntervalMs: z.number().int().min(1).max(3_600_000).default(1000),
  /** bulk requests in flight at once */
  concurrency: z.number().int().min(1).max(64).default(2),
  /** gzip request bodies (zlib level {@link gzipLevel}) */
  gzip: z.boolean().default(true),
  /** 1 (fastest) to 9 (smallest) */
  gzipLevel: z.number().int().min(1).max(9).default(1),
  /** no answer within this long = a failed request (retried) */
  requestTimeoutMs: z.number().int().min(100).default(60_000),
  connectTimeoutMs: z.number().int().min(100).default(10_000),
  /** first retry delay; doubled per attempt, jittered, capped by {@link retryMaxDelayMs} */
  retryInitialDelayMs: z.number().int().min(1).default(200),
  /** also the cap on a server's Retry-After */
  retryMaxDelayMs: z.number().int().min(1).max(600_000).default(30_000),
  /** a host that failed to answer is probed again after this long (doubling up to the retry cap) */
  deadHostRetryMs: z.number().int().min(10).default(5_000),
  /** an answer longer than this fails its request (bulk answers are kilobytes; search pages are bounded by --limit) */
  maxResponseBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(64 * 1024 * 1024),
  /** send credentials to an http:// host that is not this machine (they travel in clear text): must be explicit */
  allowInsecureCredentials: z.boolean().default(false),
});

/** The section as written in the file (defaults optional). */
export type ElasticsearchFileInput = z.input<typeof elasticsearchSinkConfigSchema>;
/** The section after the schema (defaults filled in). */
export type ElasticsearchFileConfig = z.output<typeof elasticsearchSinkConfigSchema>;

export type ElasticsearchAuth = { kind: 'basic'; username: string; password: string } | { kind: 'apiKey'; apiKey: string };

export interface ElasticsearchTls {
  /** CA certificate contents, read and checked at load time */
  ca?: string;
  caFile?: string;
  /** where caFile was set (`ELASTICSEARCH_CA_FILE`, `output.elasticsearch.tls.caFile`), for messages */
  caFrom?: string;
  verify: boolean;
}

/** What the sink runs with: every value checked, hosts parsed, the CA file read. */
export interface ElasticsearchConfig extends Omit<ElasticsearchFileConfig, 'hosts' | 'auth' | 'tls'> {
  hosts: URL[];
  /** where the hosts were set (`ELASTICSEARCH_HOSTS`, `output.elasticsearch.hosts`), for messages */
  hostsFrom?: string;
  auth: ElasticsearchAuth | undefined;
  /**
   * where the credentials were set and whose they are, for messages that must say what to fix, e.g.
   * `ELASTICSEARCH_USERNAME/ELASTICSEARCH_PASSWORD (user "writer")`; undefined without credentials
   */
  authFrom?: string;
  tls: ElasticsearchTls;
}

const FILE = 'output.elasticsearch';

/** One line per problem, as the top-level loader words them: key path, problem, the value given. */
function formatIssues(error: z.ZodError, input: unknown): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      if (issue.code === 'unrecognized_keys')
        return `${FILE}${path}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      let value: unknown = input;
      for (const key of issue.path) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
      return `${FILE}${path}: ${issue.message} (got ${value === undefined ? 'nothing' : JSON.stringify(value)})`;
    })
    .join('\n');
}

function readCa(file: string, key: string): string {
  if (!existsSync(file)) throw new UsageError(`${key}: file does not exist (got ${JSON.stringify(file)})`);
  if (!statSync(file).isFile()) throw new UsageError(`${key}: not a file (got ${JSON.stringify(file)})`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${key}: cannot read ${JSON.stringify(file)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new UsageError(`${key}: not a PEM certificate (no BEGIN CERTIFICATE line in ${JSON.stringify(file)})`);
  return text;
}

/** Traffic to these never leaves the machine: nobody on the network can read it. */
export function isLoopbackHost(hostname: string): boolean {
  const name = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return name === 'localhost' || name.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(name) || name === '::1';
}

/**
 * Credentials (configured, or in a host's URL) must not cross the network in clear text: an http:// host
 * other than this machine is refused unless allowInsecureCredentials says the risk is known. Anyone on the
 * path (a node, a mirror port, a compromised pod with host networking) would read the password.
 */
function refuseCredentialsInClear(hosts: URL[], hostsFrom: string, credentialKey: string | undefined): void {
  for (const url of hosts) {
    if (url.protocol !== 'http:' || isLoopbackHost(url.hostname)) continue;
    const key = url.username !== '' ? hostsFrom : credentialKey;
    if (key === undefined) continue;
    throw new UsageError(
      `${key}: credentials would be sent in clear text to http://${url.host} (${hostsFrom}); use https ` +
        `(${ENV_VARS.ELASTICSEARCH_SCHEME}=https or https:// URLs; logferry manifests --es-scheme https), or accept the risk ` +
        `explicitly with ${ENV_VARS.ELASTICSEARCH_ALLOW_INSECURE_CREDENTIALS}=true (${FILE}.allowInsecureCredentials: true)`,
    );
  }
}

/** `id:key` is turned into the encoded form the Authorization header wants. */
function encodeApiKey(apiKey: string): string {
  return apiKey.includes(':') ? Buffer.from(apiKey).toString('base64') : apiKey;
}

/**
 * The Elasticsearch output from the file section and the environment (see the precedence above), or
 * undefined when neither names a host: the agent then uses the embedded local store. Every value is
 * checked here, before anything is read or sent; errors are UsageErrors naming the key or variable.
 */
export function resolveElasticsearchConfig(fromFile: ElasticsearchFileInput | undefined, env: NodeJS.ProcessEnv): ElasticsearchConfig | undefined {
  const parsed = elasticsearchSinkConfigSchema.safeParse(fromFile ?? {});
  if (!parsed.success) throw new UsageError(formatIssues(parsed.error, fromFile));
  const file = parsed.data;
  const fromEnv = readElasticsearchEnv(env);

  let hosts: URL[];
  let hostsFrom: string;
  if (fromEnv.hosts !== undefined) [hosts, hostsFrom] = [fromEnv.hosts, fromEnv.hostsFrom ?? ENV_VARS.ELASTICSEARCH_HOSTS];
  else if (file.hosts !== undefined) [hosts, hostsFrom] = [file.hosts.map((h, i) => parseHostUrl(h, `${FILE}.hosts[${i}]`)), `${FILE}.hosts`];
  else return undefined;

  const envAuth = fromEnv.username !== undefined || fromEnv.password !== undefined || fromEnv.apiKey !== undefined;
  const authFrom = envAuth
    ? {
        username: fromEnv.username,
        password: fromEnv.password,
        apiKey: fromEnv.apiKey,
        names: [ENV_VARS.ELASTICSEARCH_USERNAME, ENV_VARS.ELASTICSEARCH_PASSWORD, ENV_VARS.ELASTICSEARCH_API_KEY],
      }
    : { ...file.auth, names: [`${FILE}.auth.username`, `${FILE}.auth.password`, `${FILE}.auth.apiKey`] };
  const [userKey, passwordKey, apiKeyKey] = authFrom.names;
  let auth: ElasticsearchAuth | undefined;
  let authSource: string | undefined;
  if (authFrom.apiKey !== undefined) {
    if (authFrom.username !== undefined || authFrom.password !== undefined) {
      throw new UsageError(`${apiKeyKey}: give either an API key or ${userKey} and ${passwordKey}, not both`);
    }
    auth = { kind: 'apiKey', apiKey: encodeApiKey(authFrom.apiKey) };
    authSource = `${apiKeyKey} (API key)`;
  } else if (authFrom.username !== undefined || authFrom.password !== undefined) {
    if (authFrom.username === undefined) throw new UsageError(`${userKey}: missing (${passwordKey} is set)`);
    if (authFrom.password === undefined) throw new UsageError(`${passwordKey}: missing (${userKey} is ${JSON.stringify(authFrom.username)})`);
    auth = { kind: 'basic', username: authFrom.username, password: authFrom.password };
    authSource = `${userKey}/${passwordKey} (user ${JSON.stringify(authFrom.username)})`;
  }

  const caFile = fromEnv.caFile ?? file.tls?.caFile;
  const caFrom = caFile === undefined ? undefined : fromEnv.caFile !== undefined ? ENV_VARS.ELASTICSEARCH_CA_FILE : `${FILE}.tls.caFile`;
  const ca = caFile === undefined ? undefined : readCa(caFile, caFrom!);
  const tls: ElasticsearchTls = { ca, caFile, ...(caFrom !== undefined ? { caFrom } : {}), verify: fromEnv.verify ?? file.tls?.verify ?? true };

  const allowInsecureCredentials = fromEnv.allowInsecureCredentials ?? file.allowInsecureCredentials;
  if (!allowInsecureCredentials)
    refuseCredentialsInClear(hosts, hostsFrom, auth !== undefined ? (auth.kind === 'apiKey' ? apiKeyKey : passwordKey) : undefined);

  const { hosts: _hosts, auth: _auth, tls: _tls, ...rest } = file;
  return { ...rest, allowInsecureCredentials, hosts, hostsFrom, auth, authFrom: authSource, tls };
}

/** Only the environment: the output DESIGN.md's variables describe, or undefined when they name no host. */
export function elasticsearchConfigFromEnv(env: NodeJS.ProcessEnv): ElasticsearchConfig | undefined {
  return resolveElasticsearchConfig(undefined, env);
}
