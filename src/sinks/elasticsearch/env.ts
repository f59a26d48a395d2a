/**
 * Where an Elasticsearch address can come from and what a valid one looks like: the environment contract
 * of DESIGN.md (the DaemonSet's injection point) and the URL rules shared with the config file.
 *
 * Every error names the variable (or key) and repeats the value, with any password in it masked.
 */
import { UsageError } from '../../cli/errors.js';
import { ENV_VARS } from '../../config/env-vars.js';

/** A value as the user wrote it, safe to print: `https://elastic:***@es:9200`. */
export function redact(value: string): string {
  return value.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
}

function quoted(value: string): string {
  return JSON.stringify(redact(value));
}

/** The problem with a port string, or undefined when it is 1-65535. */
function portProblem(value: string): string | undefined {
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) return 'port must be 1-65535';
  return undefined;
}

/**
 * What is wrong with a host URL (without the value: callers add it), or undefined. A bare `host` or
 * `host:port` means http; without a port, http means 9200 (Elasticsearch's port: what
 * `http://elasticsearch` means in practice) and https 443.
 */
export function hostProblem(value: string): string | undefined {
  const text = value.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  // The port is checked on the text first: URL rejects `:99999` as a whole ("not a valid URL") and would
  // hide what is actually wrong.
  const port = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/@]*@)?(?:\[[^\]]*\]|[^:/]*):([^/]*)/i.exec(withScheme)?.[1];
  if (port !== undefined && port !== '') {
    const badPort = portProblem(port);
    if (badPort !== undefined) return badPort;
  }
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return 'not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'scheme must be http or https';
  if (url.hostname === '') return 'no host name';
  // A query string is kept and sent with every request (stores such as VictoriaLogs take `_bulk` parameters there).
  if (url.hash !== '') return 'no fragment allowed';
  return undefined;
}

/** A host URL checked by {@link hostProblem}; throws a UsageError that starts with `where`. */
export function parseHostUrl(value: string, where: string, defaultScheme = 'http'): URL {
  const problem = hostProblem(value);
  if (problem !== undefined) throw new UsageError(`${where}: ${problem} (got ${quoted(value)})`);
  const text = value.trim();
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `${defaultScheme}://${text}`);
  // No port: 9200 for http; for https URL keeps '' (443, its default), which Node's http client reads the same way.
  if (url.port === '' && url.protocol === 'http:' && !/:80(?:\/|$)/.test(text)) url.port = '9200';
  return url;
}

/** What the environment says about Elasticsearch; each field set only when its variable is. */
export interface ElasticsearchEnvSettings {
  hosts?: URL[];
  /** the variable the hosts came from, for messages */
  hostsFrom?: string;
  /** ELASTICSEARCH_ALLOW_INSECURE_CREDENTIALS */
  allowInsecureCredentials?: boolean;
  username?: string;
  password?: string;
  apiKey?: string;
  caFile?: string;
  verify?: boolean;
}

/** Unset and empty are the same: Kubernetes renders an optional secret that is absent as ''. */
function get(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/**
 * Read and check DESIGN.md's variables. `ELASTICSEARCH_HOSTS` (comma-separated URLs) wins over
 * `ELASTICSEARCH_HOST` + `ELASTICSEARCH_PORT` (+ `ELASTICSEARCH_SCHEME`), which win over the seed image's
 * `FLUENT_ELASTICSEARCH_HOST` / `FLUENT_ELASTICSEARCH_PORT`.
 */
export function readElasticsearchEnv(env: NodeJS.ProcessEnv): ElasticsearchEnvSettings {
  const out: ElasticsearchEnvSettings = {};
  const schemeValue = get(env, ENV_VARS.ELASTICSEARCH_SCHEME);
  const scheme = schemeValue?.trim().toLowerCase() ?? 'http';
  if (scheme !== 'http' && scheme !== 'https') {
    throw new UsageError(`${ENV_VARS.ELASTICSEARCH_SCHEME}: must be http or https (got ${quoted(schemeValue ?? '')})`);
  }
  const list = get(env, ENV_VARS.ELASTICSEARCH_HOSTS);
  const hostVar = get(env, ENV_VARS.ELASTICSEARCH_HOST) !== undefined ? ENV_VARS.ELASTICSEARCH_HOST : ENV_VARS.FLUENT_ELASTICSEARCH_HOST;
  const host = get(env, hostVar);
  if (list !== undefined) {
    const items = list.split(',').map((item) => item.trim());
    if (items.some((item) => item === '')) throw new UsageError(`${ENV_VARS.ELASTICSEARCH_HOSTS}: empty entry in the list (got ${quoted(list)})`);
    out.hosts = items.map((item) => parseHostUrl(item, ENV_VARS.ELASTICSEARCH_HOSTS, scheme));
    out.hostsFrom = ENV_VARS.ELASTICSEARCH_HOSTS;
  } else if (host !== undefined) {
    // The plain host variable pairs with its own port variable; a port from the other family is still used.
    const portVar =
      hostVar === ENV_VARS.ELASTICSEARCH_HOST
        ? get(env, ENV_VARS.ELASTICSEARCH_PORT) !== undefined
          ? ENV_VARS.ELASTICSEARCH_PORT
          : ENV_VARS.FLUENT_ELASTICSEARCH_PORT
        : get(env, ENV_VARS.FLUENT_ELASTICSEARCH_PORT) !== undefined
          ? ENV_VARS.FLUENT_ELASTICSEARCH_PORT
          : ENV_VARS.ELASTICSEARCH_PORT;
    const port = get(env, portVar)?.trim() ?? '9200';
    const badPort = portProblem(port);
    if (badPort !== undefined) throw new UsageError(`${portVar}: ${badPort} (got ${quoted(port)})`);
    const name = host.trim();
    const bare = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1).replaceAll(':', '') : name;
    if (/[/:@\s?#]/.test(bare)) {
      throw new UsageError(`${hostVar}: a host name or address without scheme or port (got ${quoted(host)}); put URLs in ${ENV_VARS.ELASTICSEARCH_HOSTS}`);
    }
    out.hosts = [parseHostUrl(`${scheme}://${name}:${port}`, hostVar)];
    out.hostsFrom = schemeValue !== undefined ? `${hostVar}/${ENV_VARS.ELASTICSEARCH_SCHEME}` : hostVar;
  }
  const username = get(env, ENV_VARS.ELASTICSEARCH_USERNAME);
  const password = env[ENV_VARS.ELASTICSEARCH_PASSWORD];
  const apiKey = get(env, ENV_VARS.ELASTICSEARCH_API_KEY);
  if (username !== undefined) out.username = username;
  if (password !== undefined && password !== '') out.password = password;
  if (apiKey !== undefined) out.apiKey = apiKey.trim();
  const caFile = get(env, ENV_VARS.ELASTICSEARCH_CA_FILE);
  if (caFile !== undefined) out.caFile = caFile.trim();
  const verify = get(env, ENV_VARS.ELASTICSEARCH_TLS_VERIFY);
  if (verify !== undefined) {
    const v = verify.trim().toLowerCase();
    if (!TRUE.has(v) && !FALSE.has(v)) throw new UsageError(`${ENV_VARS.ELASTICSEARCH_TLS_VERIFY}: true or false (got ${quoted(verify)})`);
    out.verify = TRUE.has(v);
  }
  const allowInsecure = get(env, ENV_VARS.ELASTICSEARCH_ALLOW_INSECURE_CREDENTIALS);
  if (allowInsecure !== undefined) {
    const v = allowInsecure.trim().toLowerCase();
    if (!TRUE.has(v) && !FALSE.has(v))
      throw new UsageError(`${ENV_VARS.ELASTICSEARCH_ALLOW_INSECURE_CREDENTIALS}: true or false (got ${quoted(allowInsecure)})`);
    out.allowInsecureCredentials = TRUE.has(v);
  }
  return out;
}
