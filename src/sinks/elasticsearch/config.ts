/**
 * Elasticsearch output settings: the config file's `output.elasticsearch` section and the environment
 * (the DaemonSet's injection point). What the user set in the environment wins over the file, key by key:
 * the environment is what a manifest or `kubectl set env` changes, so it must not be silently shadowed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { UsageError } from '../../cli/errors.js';
import { ENV_VARS } from '../../config/env-vars.js';

export const elasticsearchSinkConfigSchema = z.strictObject({
  /** base URLs, e.g. https://es-1.example:9200 */
  hosts: z.array(z.string()).min(1).optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  apiKey: z.string().optional(),
  /** PEM file with the CA that signed the cluster's certificate */
  caFile: z.string().optional(),
  /** certificate verification; turning it off must be explicit */
  tlsVerify: z.boolean().default(true),
  /** daily indices `<index>-YYYY.MM.DD` from each record's UTC date */
  index: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, . _ - only').default('logstash'),
  /** write to a data stream instead of daily indices, e.g. `logs-kubernetes.container_logs-default` */
  dataStream: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/).optional(),
  deadLetterIndex: z.string().default('logferry-deadletter'),
  bulkMaxBytes: z.number().int().min(1024).default(5 * 1024 * 1024),
  bulkMaxRecords: z.number().int().positive().default(10_000),
  flushIntervalMs: z.number().int().positive().default(1000),
  concurrency: z.number().int().min(1).max(64).default(2),
  gzip: z.boolean().default(true),
  requestTimeoutMs: z.number().int().positive().default(60_000),
  retryInitialDelayMs: z.number().int().positive().default(200),
  retryMaxDelayMs: z.number().int().positive().default(30_000),
  /** a host that failed is left alone this long before it is tried again */
  deadHostRetryMs: z.number().int().positive().default(5_000),
  installTemplate: z.boolean().default(true),
});

export type ElasticsearchFileConfig = z.infer<typeof elasticsearchSinkConfigSchema>;

export interface ElasticsearchConfig extends Omit<ElasticsearchFileConfig, 'hosts' | 'caFile'> {
  hosts: URL[];
  /** CA certificate contents (read and checked at load time) */
  ca?: string;
  caFile?: string;
}

function parseHost(value: string, where: string): URL {
  let url: URL;
  try {
    url = new URL(value.includes('://') ? value : `http://${value}`);
  } catch {
    throw new UsageError(`${where}: not a valid URL (got ${JSON.stringify(value)})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${where}: scheme must be http or https (got ${JSON.stringify(value)})`);
  }
  if (url.port !== '') checkPort(url.port, where);
  if (!url.port) url.port = url.protocol === 'https:' ? '443' : '9200';
  return url;
}

function checkPort(value: string, where: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw new UsageError(`${where}: port must be 1-65535 (got ${JSON.stringify(value)})`);
  return port;
}

/** Hosts and credentials from the environment; undefined when it names no Elasticsearch. */
export function elasticsearchEnv(env: NodeJS.ProcessEnv): Partial<ElasticsearchFileConfig> {
  const out: Partial<ElasticsearchFileConfig> = {};
  const list = env[ENV_VARS.ELASTICSEARCH_HOSTS];
  const host = env[ENV_VARS.ELASTICSEARCH_HOST] ?? env[ENV_VARS.FLUENT_ELASTICSEARCH_HOST];
  if (list !== undefined && list.trim() !== '') {
    out.hosts = list.split(',').map((h) => h.trim()).filter(Boolean);
    out.hosts.forEach((h) => parseHost(h, ENV_VARS.ELASTICSEARCH_HOSTS));
  } else if (host !== undefined && host.trim() !== '') {
    const hostVar = env[ENV_VARS.ELASTICSEARCH_HOST] !== undefined ? ENV_VARS.ELASTICSEARCH_HOST : ENV_VARS.FLUENT_ELASTICSEARCH_HOST;
    const portVar = env[ENV_VARS.ELASTICSEARCH_PORT] !== undefined ? ENV_VARS.ELASTICSEARCH_PORT : ENV_VARS.FLUENT_ELASTICSEARCH_PORT;
    const portValue = env[portVar] ?? '9200';
    checkPort(portValue, portVar);
    const scheme = (env[ENV_VARS.ELASTICSEARCH_SCHEME] ?? 'http').toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') throw new UsageError(`${ENV_VARS.ELASTICSEARCH_SCHEME}: must be http or https (got ${JSON.stringify(scheme)})`);
    const hostOnly = host.trim();
    if (/[/:@\s]/.test(hostOnly.replace(/^\[.*\]$/, ''))) throw new UsageError(`${hostVar}: a host name or address without scheme or port (got ${JSON.stringify(host)})`);
    out.hosts = [`${scheme}://${hostOnly}:${portValue}`];
  }
  if (env[ENV_VARS.ELASTICSEARCH_USERNAME] !== undefined) out.username = env[ENV_VARS.ELASTICSEARCH_USERNAME];
  if (env[ENV_VARS.ELASTICSEARCH_PASSWORD] !== undefined) out.password = env[ENV_VARS.ELASTICSEARCH_PASSWORD];
  if (env[ENV_VARS.ELASTICSEARCH_API_KEY] !== undefined) out.apiKey = env[ENV_VARS.ELASTICSEARCH_API_KEY];
  if (env[ENV_VARS.ELASTICSEARCH_CA_FILE] !== undefined) out.caFile = env[ENV_VARS.ELASTICSEARCH_CA_FILE];
  const verify = env[ENV_VARS.ELASTICSEARCH_TLS_VERIFY];
  if (verify !== undefined) {
    if (!['true', 'false', '1', '0'].includes(verify.toLowerCase())) {
      throw new UsageError(`${ENV_VARS.ELASTICSEARCH_TLS_VERIFY}: true or false (got ${JSON.stringify(verify)})`);
    }
    out.tlsVerify = verify.toLowerCase() === 'true' || verify === '1';
  }
  return out;
}

/**
 * The Elasticsearch output, or undefined when neither the file nor the environment names a host (the
 * agent then uses the local store). Every value is checked here, before anything is read or sent.
 */
export function resolveElasticsearchConfig(fromFile: ElasticsearchFileConfig | undefined, env: NodeJS.ProcessEnv): ElasticsearchConfig | undefined {
  const fromEnv = elasticsearchEnv(env);
  const base = elasticsearchSinkConfigSchema.parse(fromFile ?? {});
  const merged: ElasticsearchFileConfig = { ...base, ...fromEnv };
  if (merged.hosts === undefined || merged.hosts.length === 0) return undefined;
  const where = fromEnv.hosts ? 'environment' : 'output.elasticsearch.hosts';
  const hosts = merged.hosts.map((h, i) => parseHost(h, fromEnv.hosts ? (env.ELASTICSEARCH_HOSTS ? ENV_VARS.ELASTICSEARCH_HOSTS : where) : `${where}[${i}]`));
  if (merged.apiKey !== undefined && (merged.username !== undefined || merged.password !== undefined)) {
    throw new UsageError('Elasticsearch credentials: give either an API key or a username and password, not both');
  }
  if ((merged.username === undefined) !== (merged.password === undefined)) {
    throw new UsageError(`Elasticsearch credentials: ${merged.username === undefined ? ENV_VARS.ELASTICSEARCH_USERNAME : ENV_VARS.ELASTICSEARCH_PASSWORD} is missing`);
  }
  let ca: string | undefined;
  if (merged.caFile !== undefined) {
    const key = fromEnv.caFile !== undefined ? ENV_VARS.ELASTICSEARCH_CA_FILE : 'output.elasticsearch.caFile';
    if (!existsSync(merged.caFile)) throw new UsageError(`${key}: file does not exist (got ${JSON.stringify(merged.caFile)})`);
    ca = readFileSync(merged.caFile, 'utf8');
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`${key}: not a PEM certificate (${merged.caFile})`);
  }
  return { ...merged, hosts, ca };
}
