/**
 * The lifecycle policy for what logferry writes (`output.elasticsearch.lifecycle`), installed at start before
 * the templates: ILM on Elasticsearch (attached by the template's `index.lifecycle.name`), ISM on OpenSearch
 * (attached by the policy's own `ism_template`, matching the data stream or the daily indices).
 *
 * Data streams roll over by size or age and their backing indices are deleted N days after their rollover;
 * daily indices cannot roll over (no write alias) and are deleted N days after their creation.
 *
 * A cluster without ILM/ISM (Elasticsearch OSS, an OpenSearch without its index-management plugin) answers
 * the policy endpoint with 400 "no handler" (or 404/405): the policy is left out, said once in a note,
 * and the template installed without it, so documents still get their mappings.
 */
import type { ElasticsearchConfig } from './config.js';
import type { ServerInfo } from './server-info.js';
import type { Transport } from './transport.js';

export type LifecycleConfig = NonNullable<ElasticsearchConfig['lifecycle']>;

export type LifecycleOutcome =
  { kind: 'ok'; /** settings the logs template carries */ settings: Record<string, unknown>; notes: string[] } | { kind: 'retry'; reason: string };

const JSON_HEADERS = { 'content-type': 'application/json' };
const META = { managed_by: 'logferry' };

/** The ILM policy body (Elasticsearch). */
export function ilmPolicy(lifecycle: LifecycleConfig, dataStream: boolean): Record<string, unknown> {
  const hot = dataStream ? { rollover: { max_primary_shard_size: lifecycle.rolloverMaxSize, max_age: lifecycle.rolloverMaxAge } } : {};
  return {
    policy: {
      _meta: META,
      phases: {
        hot: { min_age: '0ms', actions: hot },
        delete: { min_age: `${lifecycle.deleteAfterDays}d`, actions: { delete: {} } },
      },
    },
  };
}

/** The ISM policy body (OpenSearch); `pattern` is what its ism_template attaches it to. */
export function ismPolicy(lifecycle: LifecycleConfig, dataStream: boolean, pattern: string): Record<string, unknown> {
  const age = `${lifecycle.deleteAfterDays}d`;
  return {
    policy: {
      description: `logferry: ${dataStream ? `roll over at ${lifecycle.rolloverMaxSize} or ${lifecycle.rolloverMaxAge}, ` : ''}delete after ${age}`,
      default_state: 'hot',
      states: [
        {
          name: 'hot',
          actions: dataStream ? [{ rollover: { min_primary_shard_size: lifecycle.rolloverMaxSize, min_index_age: lifecycle.rolloverMaxAge } }] : [],
          transitions: [{ state_name: 'delete', conditions: dataStream ? { min_rollover_age: age } : { min_index_age: age } }],
        },
        { name: 'delete', actions: [{ delete: {} }], transitions: [] },
      ],
      ism_template: [{ index_patterns: [pattern], priority: 100 }],
    },
  };
}

/** A cluster that has no such endpoint (no ILM/ISM), as opposed to one that refused the body. */
function noEndpoint(status: number, body: string): boolean {
  return status === 404 || status === 405 || (status === 400 && /no handler found/i.test(body));
}

export async function prepareLifecycle(transport: Transport, server: ServerInfo, config: ElasticsearchConfig): Promise<LifecycleOutcome> {
  const lifecycle = config.lifecycle;
  if (lifecycle === undefined) return { kind: 'ok', settings: {}, notes: [] };
  const dataStream = config.dataStream !== undefined;
  const name = encodeURIComponent(lifecycle.policy);
  const opensearch = server.distribution === 'opensearch';
  const kind = opensearch ? 'ISM' : 'ILM';
  const path = opensearch ? `/_plugins/_ism/policies/${name}` : `/_ilm/policy/${name}`;
  const missing = (detail: string) => ({
    kind: 'ok' as const,
    settings: {},
    notes: [`lifecycle policy ${lifecycle.policy} not attached: this cluster has no ${kind} (${detail}); indices are kept until deleted by hand`],
  });
  // Elasticsearch attaches through the template; OpenSearch through the policy's ism_template.
  const attach = opensearch ? {} : { 'index.lifecycle.name': lifecycle.policy };

  if (!lifecycle.install) {
    const found = await transport.request('GET', path);
    if (found.kind === 'error') return { kind: 'retry', reason: `looking up ${path}: ${found.error}` };
    if (found.status === 200) return { kind: 'ok', settings: attach, notes: [] };
    if (found.status === 404) {
      return { kind: 'ok', settings: attach, notes: [`lifecycle policy ${lifecycle.policy} does not exist (lifecycle.install is false): create it`] };
    }
    if (noEndpoint(found.status, found.body)) return missing(`GET ${path} answered ${found.status}`);
    return { kind: 'ok', settings: attach, notes: [] };
  }

  const pattern = config.dataStream ?? `${config.index}-*`;
  const body = opensearch ? ismPolicy(lifecycle, dataStream, pattern) : ilmPolicy(lifecycle, dataStream);
  let result = await transport.request('PUT', path, JSON.stringify(body), JSON_HEADERS);
  if (result.kind === 'error') return { kind: 'retry', reason: `installing ${path}: ${result.error}` };
  if (opensearch && result.status === 409) {
    // ISM updates an existing policy only with its sequence number.
    const current = await transport.request('GET', path);
    if (current.kind === 'error') return { kind: 'retry', reason: `reading ${path}: ${current.error}` };
    const { _seq_no: seq, _primary_term: term } = JSON.parse(current.body || '{}') as { _seq_no?: number; _primary_term?: number };
    result = await transport.request('PUT', `${path}?if_seq_no=${seq}&if_primary_term=${term}`, JSON.stringify(body), JSON_HEADERS);
    if (result.kind === 'error') return { kind: 'retry', reason: `updating ${path}: ${result.error}` };
  }
  if (result.status >= 200 && result.status < 300) return { kind: 'ok', settings: attach, notes: [] };
  if (noEndpoint(result.status, result.body)) return missing(`PUT ${path} answered ${result.status}`);
  if (result.status === 429 || result.status >= 500) return { kind: 'retry', reason: `installing ${path}: HTTP ${result.status}` };
  if (result.status === 401 || result.status === 403) {
    // Allowed to write, not to manage lifecycles: attach the policy by name if it is there (someone else's).
    return {
      kind: 'ok',
      settings: attach,
      notes: [`lifecycle policy ${path} not installed: HTTP ${result.status} (the credentials lack manage_ilm / ISM rights); attached by name`],
    };
  }
  return { kind: 'ok', settings: {}, notes: [`lifecycle policy ${path} refused: HTTP ${result.status} ${result.body.slice(0, 300)}; not attached`] };
}
