/** The same queries against Elasticsearch (query DSL over the daily indices or a data stream). */
import { dedot } from '../event/metadata.js';
import type { ElasticsearchConfig } from '../sinks/elasticsearch/config.js';
import { Transport } from '../sinks/elasticsearch/transport.js';
import type { FoundRecord, LogQuery, QueryBackend } from './query.js';
import { timestampMicros } from '../store/local-store.js';

export class BackendError extends Error {
  override readonly name = 'BackendError';
}

/** microseconds → RFC 3339 with microseconds (date_nanos range bounds keep the precision). */
export function microsToIso(micros: number): string {
  const ms = Math.floor(micros / 1000);
  return new Date(ms).toISOString().slice(0, 19) + '.' + String(micros % 1_000_000).padStart(6, '0') + 'Z';
}

export function buildEsQuery(query: LogQuery): Record<string, unknown> {
  const filter: unknown[] = [];
  const must: unknown[] = [];
  const mustNot: unknown[] = [];
  if (query.fromMicros !== undefined || query.toMicros !== undefined) {
    const range: Record<string, string> = {};
    if (query.fromMicros !== undefined) range.gte = microsToIso(query.fromMicros);
    if (query.toMicros !== undefined) range.lt = microsToIso(query.toMicros);
    filter.push({ range: { '@timestamp': range } });
  }
  if (query.namespace !== undefined) filter.push({ term: { 'kubernetes.namespace': query.namespace } });
  if (query.pod !== undefined) filter.push(/[*?]/.test(query.pod) ? { wildcard: { 'kubernetes.pod.name': query.pod } } : { term: { 'kubernetes.pod.name': query.pod } });
  if (query.container !== undefined) filter.push({ term: { 'kubernetes.container.name': query.container } });
  if (query.level !== undefined) filter.push({ term: { 'log.level': query.level } });
  if (query.stream !== undefined) filter.push({ term: { stream: query.stream } });
  if (query.node !== undefined) filter.push({ term: { 'kubernetes.node.name': query.node } });
  for (const label of query.labels) {
    const field = `kubernetes.labels.${dedot(label.key)}`;
    if (label.op === '=') filter.push({ term: { [field]: label.value } });
    else if (label.op === '!=') mustNot.push({ term: { [field]: label.value } });
    else if (label.op === 'exists') filter.push({ exists: { field } });
    else mustNot.push({ exists: { field } });
  }
  for (const term of query.text) {
    const prefix = term.kind === 'word' && term.value.endsWith('*') && term.value.length > 1;
    const clause =
      term.kind === 'phrase' || !prefix
        ? { match_phrase: { message: term.value } }
        : { match_phrase_prefix: { message: term.value.slice(0, -1) } };
    (term.negate ? mustNot : must).push(clause);
  }
  for (const term of query.fields) {
    const clause = term.field === 'message' ? { match_phrase: { message: term.value } } : { match: { [term.field]: { query: term.value, operator: 'and' } } };
    (term.negate ? mustNot : filter).push(clause);
  }
  const order = query.order === 'newest' ? 'desc' : 'asc';
  const body: Record<string, unknown> = {
    size: query.limit,
    query: { bool: { filter, must, must_not: mustNot } },
    sort: [{ '@timestamp': { order } }, { 'log.offset': { order, unmapped_type: 'long' } }, { 'log.file.path': { order, unmapped_type: 'keyword' } }],
  };
  if (query.after !== undefined) body.search_after = JSON.parse(query.after.tiebreak);
  return body;
}

export class ElasticsearchBackend implements QueryBackend {
  readonly description: string;
  private readonly transport: Transport;
  private readonly target: string;

  constructor(config: ElasticsearchConfig, indexPattern?: string) {
    this.transport = new Transport(config);
    this.target = indexPattern ?? config.dataStream ?? `${config.index}-*`;
    this.description = `Elasticsearch ${this.transport.hostLabels.join(', ')} (${this.target})`;
  }

  async search(query: LogQuery): Promise<FoundRecord[]> {
    const path = `/${encodeURIComponent(this.target).replaceAll('%2A', '*').replaceAll('%2C', ',')}/_search?ignore_unavailable=true&allow_no_indices=true`;
    const result = await this.transport.request('POST', path, JSON.stringify(buildEsQuery(query)), { 'content-type': 'application/json' });
    if (result.kind === 'error') throw new BackendError(`cannot reach Elasticsearch at ${result.host}: ${result.error}`);
    if (result.status >= 300) throw new BackendError(`Elasticsearch at ${result.host} answered ${result.status}: ${result.body.slice(0, 500)}`);
    const hits = (JSON.parse(result.body) as { hits: { hits: Array<{ _id: string; _source: Record<string, any>; sort: unknown[] }> } }).hits.hits;
    return hits.map((hit) => {
      const tsMicros = timestampMicros(String(hit._source['@timestamp'] ?? ''));
      return { id: hit._id, tsMicros, doc: hit._source, cursor: { tsMicros, tiebreak: JSON.stringify(hit.sort) } };
    });
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}
