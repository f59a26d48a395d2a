/**
 * Getting the cluster ready before the first bulk: detect the server (`GET /`), check it can do what the
 * configuration asks (data streams), install the index templates. The outcome is a value: ready, try
 * again later (nothing answered, or the cluster is not ready), or fatal (a configuration problem that
 * retrying cannot fix — wrong credentials, a certificate that does not verify, no data streams).
 */
import { ENV_VARS } from '../../config/env-vars.js';
import type { ElasticsearchConfig } from './config.js';
import { describeServer, parseServerInfo, probeDataStreams, unsupportedReason, type ServerInfo } from './server-info.js';
import { prepareLifecycle } from './lifecycle.js';
import { templateRequests } from './templates.js';
import type { Transport } from './transport.js';

export type StartupOutcome =
  | { kind: 'ready'; server: ServerInfo; notes: string[] }
  | { kind: 'retry'; reason: string }
  /**
   * `refused`: the cluster refused us (credentials, a certificate that does not verify) — fixed by a
   * change on either side, which a long-running agent can wait for; `label`: the failure metric's reason
   */
  | { kind: 'fatal'; reason: string; refused?: boolean; label?: string };

const JSON_HEADERS = { 'content-type': 'application/json' };

const CREDENTIALS_HINT = `check ${ENV_VARS.ELASTICSEARCH_USERNAME}/${ENV_VARS.ELASTICSEARCH_PASSWORD} or ${ENV_VARS.ELASTICSEARCH_API_KEY} (output.elasticsearch.auth)`;
const TLS_HINT = `give the cluster's CA in ${ENV_VARS.ELASTICSEARCH_CA_FILE} (output.elasticsearch.tls.caFile), or turn verification off explicitly with ${ENV_VARS.ELASTICSEARCH_TLS_VERIFY}=false`;

/** What to check when the cluster refuses the credentials: the settings they came from, else all of them. */
export function credentialsHint(config: Pick<ElasticsearchConfig, 'authFrom'>): string {
  return config.authFrom !== undefined ? `check ${config.authFrom}` : `no credentials are configured: set ${CREDENTIALS_HINT.slice('check '.length)}`;
}

/**
 * What to do about a certificate that does not verify: it names other hosts (`wrongName`), the CA file
 * given did not sign it, or none was given.
 */
export function tlsHint(config: Pick<ElasticsearchConfig, 'tls' | 'hostsFrom'>, wrongName = false): string {
  const { caFile, caFrom } = config.tls;
  if (wrongName) {
    return (
      `use a host name the certificate names in ${config.hostsFrom ?? ENV_VARS.ELASTICSEARCH_HOSTS} (see its subject alternative names), ` +
      `or turn verification off explicitly with ${ENV_VARS.ELASTICSEARCH_TLS_VERIFY}=false`
    );
  }
  if (caFile === undefined || caFrom === undefined) return TLS_HINT;
  return (
    `the CA in ${caFrom} (${caFile}) did not sign the cluster's certificate: give the CA that did in ${caFrom}, ` +
    `or turn verification off explicitly with ${ENV_VARS.ELASTICSEARCH_TLS_VERIFY}=false`
  );
}

/** `GET /` on each host in turn until one answers as a cluster. */
async function detect(transport: Transport, config: ElasticsearchConfig): Promise<StartupOutcome | ServerInfo> {
  const hostCount = config.hosts.length;
  const failures: string[] = [];
  let tlsFailures = 0;
  let certificateFailures = 0;
  let wrongNames = 0;
  for (let i = 0; i < hostCount; i++) {
    const result = await transport.request('GET', '/');
    if (result.kind === 'error') {
      failures.push(`${result.host}: ${result.error}`);
      if (result.tls) tlsFailures++;
      if (result.problem === 'certificate') certificateFailures++;
      if (result.code === 'ERR_TLS_CERT_ALTNAME_INVALID') wrongNames++;
      continue;
    }
    if (result.status === 401 || result.status === 403) {
      return {
        kind: 'fatal',
        reason: `Elasticsearch at ${result.host} refused the credentials (HTTP ${result.status}): ${credentialsHint(config)}`,
        refused: true,
        label: `http_${result.status}`,
      };
    }
    if (result.status !== 200) {
      failures.push(`${result.host}: HTTP ${result.status} ${result.body.slice(0, 200)}`);
      continue;
    }
    let body: unknown;
    try {
      body = JSON.parse(result.body);
    } catch {
      body = undefined;
    }
    const info = parseServerInfo(body);
    if (info === undefined) {
      return {
        kind: 'fatal',
        reason: `${result.host} answered GET / but not as Elasticsearch or OpenSearch would (no version number): is it the right address? (${result.body.slice(0, 120)})`,
      };
    }
    return info;
  }
  if (tlsFailures === hostCount) {
    // A certificate that does not verify has two ways out; a server that answers plain HTTP on an https
    // address has one (the address), and a CA or turning verification off would not help.
    if (certificateFailures > 0) {
      return {
        kind: 'fatal',
        reason: `TLS certificate problem with every host (${failures.join('; ')}): ${tlsHint(config, wrongNames === certificateFailures)}`,
        refused: true,
        label: 'certificate',
      };
    }
    return { kind: 'fatal', reason: `no host could be reached over TLS: ${failures.join('; ')}`, refused: true, label: 'tls' };
  }
  return { kind: 'retry', reason: failures.join('; ') };
}

export async function prepareCluster(transport: Transport, config: ElasticsearchConfig): Promise<StartupOutcome> {
  const detected = await detect(transport, config);
  if ('kind' in detected) return detected;
  const server = detected;
  const notes: string[] = [];
  const unsupported = unsupportedReason(server);
  if (unsupported !== undefined) return { kind: 'fatal', reason: unsupported };
  if (config.dataStream !== undefined) {
    const streams = await probeDataStreams(transport, config.dataStream);
    if (streams === undefined) return { kind: 'retry', reason: 'could not ask whether the cluster has data streams' };
    if (!streams.supported) {
      return {
        kind: 'fatal',
        reason:
          `output.elasticsearch.dataStream: ${describeServer(server)}${server.flavor === 'oss' ? ' (OSS build)' : ''} has no data streams (${streams.detail}); ` +
          'they need Elasticsearch 7.9+ with its default distribution, or OpenSearch 1.0+. Remove dataStream to write daily indices instead.',
      };
    }
  }
  const lifecycle = await prepareLifecycle(transport, server, config);
  if (lifecycle.kind === 'retry') return lifecycle;
  notes.push(...lifecycle.notes);
  if (config.installTemplate) {
    for (const template of templateRequests(server, config, lifecycle.settings)) {
      const result = await transport.request('PUT', template.path, JSON.stringify(template.body), JSON_HEADERS);
      if (result.kind === 'error') return { kind: 'retry', reason: `installing ${template.path}: ${result.error}` };
      if (result.status === 401 || result.status === 403) {
        // Allowed to write but not to manage templates: documents still go in, with dynamic mappings.
        notes.push(
          `template ${template.path} not installed: HTTP ${result.status} (the credentials lack manage_index_templates); documents are mapped dynamically`,
        );
      } else if (result.status === 429 || result.status >= 500) {
        return { kind: 'retry', reason: `installing ${template.path}: HTTP ${result.status}` };
      } else if (result.status >= 300) {
        notes.push(`template ${template.path} refused: HTTP ${result.status} ${result.body.slice(0, 500)}`);
      }
    }
  }
  return { kind: 'ready', server, notes };
}
