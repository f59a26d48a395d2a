/**
 * The same queries against Elasticsearch: query DSL over the daily indices (`logstash-*` by default) or a
 * data stream. Indices written by logferry have keyword fields; indices written by others (fluentd's
 * dynamic mapping: text with a `.keyword` sub-field) are handled by asking `_field_caps` which variant to
 * filter and sort on. Pagination is search_after on (@timestamp, log.offset, log.file.path, host.name) —
 * no point-in-time (7.10's PIT is x-pack only), which for append-only logs only means a page can see
 * records that arrived after the first page.
 */
import { messageTokens } from '../core/message-tokens.js';
import { dedot } from '../event/metadata.js';
import type { ElasticsearchConfig } from '../sinks/elasticsearch/config.js';
import { credentialsHint, tlsHint } from '../sinks/elasticsearch/startup.js';
import { Transport } from '../sinks/elasticsearch/transport.js';
import { timestampMicros } from '../store/local-store.js';
import { groupFields, levelValues, type FieldTerm, type QueryNode, type TextTerm } from './query-text.js';
import type { FoundRecord, LogQuery, QueryBackend } from './query.js';
import type { JsonObject } from '../core/json.js';

export class BackendError extends Error {
  override readonly name = 'BackendError';
}

/** microseconds → RFC 3339 with microseconds (date_nanos range bounds keep the precision). */
export function microsToIso(micros: number): string {
  const ms = Math.floor(micros / 1000);
  return new Date(ms).toISOString().slice(0, 19) + '.' + String(((micros % 1_000_000) + 1_000_000) % 1_000_000).padStart(6, '0') + 'Z';
}

/** How to filter and sort on a field: its own name when it is a keyword (or number, date...), else `.keyword`. */
export type FieldResolver = (field: string) => { exact: string; text: boolean };

const AS_IS: FieldResolver = (field) => ({ exact: field, text: false });

/**
 * A word, phrase or prefix in the message. A one-word prefix is a `prefix` query on the analyzed terms
 * (what FTS5's `"pay"*` is; match_phrase_prefix would stop at 50 expansions); a prefix after other words
 * stays a phrase whose last word is a prefix.
 */
export function textClause(term: TextTerm): Record<string, unknown> {
  const prefix = term.kind === 'word' && term.value.endsWith('*') && term.value.length > 1;
  if (!prefix) return { match_phrase: { message: term.value } };
  const value = term.value.slice(0, -1);
  const tokens = messageTokens(value);
  if (tokens.length === 1) return { prefix: { message: tokens[0] } };
  return { match_phrase_prefix: { message: { query: value, max_expansions: 1000 } } };
}

/** A field term, positively. Keyword fields compare exactly (`*` / `?` patterns as a wildcard query). */
export function fieldClause(term: FieldTerm, resolve: FieldResolver = AS_IS): Record<string, unknown> {
  const resolved = resolve(term.field);
  if (term.pattern) return { wildcard: { [resolved.exact]: { value: term.value.replaceAll('\\', '\\\\') } } };
  if (resolved.text) return { match_phrase: { [resolved.exact]: term.value } };
  const values = term.field === 'log.level' ? levelValues(term.value) : [term.value];
  return values.length > 1 ? { terms: { [resolved.exact]: values } } : { term: { [resolved.exact]: values[0] } };
}

/** An OR / NOT group as a bool query (no scoring: results are sorted by time). */
export function groupClause(node: QueryNode, resolve: FieldResolver = AS_IS): Record<string, unknown> {
  switch (node.kind) {
    case 'text':
      return textClause(node.term);
    case 'field':
      return fieldClause(node.term, resolve);
    case 'not':
      return { bool: { must_not: [groupClause(node.child, resolve)] } };
    case 'and':
      return { bool: { filter: node.children.map((child) => groupClause(child, resolve)) } };
    case 'or':
      return { bool: { should: node.children.map((child) => groupClause(child, resolve)), minimum_should_match: 1 } };
  }
}

export function buildEsQuery(query: LogQuery, resolve: FieldResolver = AS_IS): Record<string, unknown> {
  const filter: unknown[] = [];
  const must: unknown[] = [];
  const mustNot: unknown[] = [];
  const exact = (field: string) => resolve(field).exact;
  const term = (field: string, value: string) => ({ term: { [exact(field)]: value } });
  if (query.fromMicros !== undefined || query.toMicros !== undefined) {
    const range: Record<string, string> = {};
    if (query.fromMicros !== undefined) range.gte = microsToIso(query.fromMicros);
    if (query.toMicros !== undefined) range.lt = microsToIso(query.toMicros);
    filter.push({ range: { '@timestamp': range } });
  }
  if (query.namespace !== undefined) filter.push(term('kubernetes.namespace', query.namespace));
  if (query.pod !== undefined) {
    filter.push(/[*?]/.test(query.pod) ? { wildcard: { [exact('kubernetes.pod.name')]: { value: query.pod } } } : term('kubernetes.pod.name', query.pod));
  }
  if (query.container !== undefined) filter.push(term('kubernetes.container.name', query.container));
  if (query.level !== undefined) filter.push(fieldClause({ field: 'log.level', value: query.level, negate: false }, resolve));
  if (query.stream !== undefined) filter.push(term('stream', query.stream));
  if (query.node !== undefined) filter.push(term('kubernetes.node.name', query.node));
  for (const label of query.labels) {
    const field = `kubernetes.labels.${dedot(label.key)}`;
    const values = label.values ?? [];
    if (label.op === '=') filter.push(term(field, values[0]));
    else if (label.op === '!=') mustNot.push(term(field, values[0]));
    else if (label.op === 'in') filter.push({ terms: { [exact(field)]: values } });
    else if (label.op === 'notin') mustNot.push({ terms: { [exact(field)]: values } });
    else if (label.op === 'exists') filter.push({ exists: { field } });
    else mustNot.push({ exists: { field } });
  }
  for (const t of query.text) (t.negate ? mustNot : must).push(textClause(t));
  for (const t of query.fields) (t.negate ? mustNot : filter).push(fieldClause(t, resolve));
  for (const group of query.groups ?? []) filter.push(groupClause(group, resolve));
  const order = query.order === 'newest' ? 'desc' : 'asc';
  const body: Record<string, unknown> = {
    size: query.limit,
    query: { bool: { filter, must, must_not: mustNot } },
    sort: [
      { '@timestamp': { order } },
      { 'log.offset': { order, unmapped_type: 'long' } },
      { [exact('log.file.path')]: { order, unmapped_type: 'keyword' } },
      { [exact('host.name')]: { order, unmapped_type: 'keyword' } },
    ],
    track_total_hits: false,
  };
  if (query.after !== undefined) body.search_after = JSON.parse(query.after.tiebreak);
  return body;
}

/**
 * Elasticsearch's error answer as one line: the first root cause's type and reason (a 400's body is a
 * nested JSON object of several hundred characters; the reason is what names the problem).
 */
export function rejectionReason(body: string): string {
  let reason: string | undefined;
  try {
    const error = (JSON.parse(body) as { error?: unknown }).error;
    if (typeof error === 'string') reason = error;
    else if (error !== null && typeof error === 'object') {
      const e = error as {
        type?: string;
        reason?: string;
        root_cause?: Array<{ type?: string; reason?: string }>;
        caused_by?: { type?: string; reason?: string };
      };
      const cause = e.root_cause?.[0] ?? e.caused_by ?? e;
      reason = [cause.type, cause.reason ?? e.reason].filter((part) => part !== undefined && part !== '').join(': ');
    }
  } catch {
    // not JSON (a proxy's HTML page): its text, shortened below
  }
  const line = (reason || body || 'no details').replace(/\s+/g, ' ').trim();
  return line.length > 300 ? line.slice(0, 297) + '...' : line;
}

/** Every field a query filters or sorts on (for `_field_caps`). */
function fieldsOf(query: LogQuery): string[] {
  const fields = [
    'log.file.path',
    'host.name',
    'kubernetes.namespace',
    'kubernetes.pod.name',
    'kubernetes.container.name',
    'log.level',
    'stream',
    'kubernetes.node.name',
  ];
  for (const label of query.labels) fields.push(`kubernetes.labels.${dedot(label.key)}`);
  for (const term of query.fields) if (term.field !== 'message') fields.push(term.field);
  fields.push(...groupFields(query.groups ?? []));
  return fields;
}

interface Hit {
  _id: string;
  _source: JsonObject;
  sort: unknown[];
}

export class ElasticsearchBackend implements QueryBackend {
  readonly description: string;
  /** bulk batching (1 s) plus the refresh interval (1 s), with room for retries */
  readonly followLagMs = 15_000;
  private readonly transport: Transport;
  private readonly target: string;
  private readonly hosts: string[];
  /** field → its caps (types of the field and whether a .keyword sub-field exists), per backend */
  private readonly caps = new Map<string, { text: boolean; keywordChild: boolean }>();

  constructor(
    private readonly config: ElasticsearchConfig,
    indexPattern?: string,
  ) {
    this.transport = new Transport(config);
    this.target = indexPattern ?? config.dataStream ?? `${config.index}-*`;
    this.hosts = this.transport.hostLabels;
    this.description = `Elasticsearch ${this.hosts.join(', ')} (${this.target})`;
  }

  private path(endpoint: string, extra = ''): string {
    const target = encodeURIComponent(this.target).replaceAll('%2A', '*').replaceAll('%2C', ',');
    return `/${target}/${endpoint}?ignore_unavailable=true&allow_no_indices=true${extra}`;
  }

  /** One request, tried on each configured host in turn; a clear error naming the hosts when none answers. */
  private async call(method: string, path: string, body?: unknown): Promise<JsonObject> {
    const failures: string[] = [];
    let certificate = false;
    let wrongName = false;
    for (let attempt = 0; attempt < this.hosts.length; attempt++) {
      const result = await this.transport.request(method, path, body === undefined ? undefined : JSON.stringify(body), { 'content-type': 'application/json' });
      if (result.kind === 'error') {
        failures.push(`${result.host} (${result.error})`);
        certificate ||= result.problem === 'certificate';
        wrongName ||= result.code === 'ERR_TLS_CERT_ALTNAME_INVALID';
        continue;
      }
      if (result.status === 401) {
        throw new BackendError(`Elasticsearch at ${result.host} refused the credentials (HTTP 401): ${credentialsHint(this.config)}`);
      }
      if (result.status === 403) {
        const who = this.config.authFrom ?? 'anonymous requests (no credentials configured)';
        throw new BackendError(
          `Elasticsearch at ${result.host} does not allow ${who} to read ${this.target} (HTTP 403: ${rejectionReason(result.body)}): ` +
            `grant its role read and view_index_metadata on ${this.target}, or configure other credentials`,
        );
      }
      if (result.status >= 300) {
        const what = result.status < 500 ? 'did not accept the query' : 'failed to answer';
        throw new BackendError(
          `Elasticsearch at ${result.host} ${what} (HTTP ${result.status} to ${method} ${path.split('?')[0]}): ${rejectionReason(result.body)}`,
        );
      }
      return JSON.parse(result.body);
    }
    throw new BackendError(`cannot reach Elasticsearch: tried ${failures.join(', ')}${certificate ? `: ${tlsHint(this.config, wrongName)}` : ''}`);
  }

  private async resolver(query: LogQuery): Promise<FieldResolver> {
    const wanted = fieldsOf(query).filter((f) => !this.caps.has(f));
    if (wanted.length > 0) {
      const names = [...new Set(wanted.flatMap((f) => [f, `${f}.keyword`]))];
      const response = (await this.call('GET', this.path('_field_caps', `&fields=${encodeURIComponent(names.join(','))}`))) as {
        fields?: Record<string, Record<string, unknown>>;
      };
      const found = response.fields ?? {};
      for (const field of wanted) {
        const types = Object.keys(found[field] ?? {});
        this.caps.set(field, { text: types.includes('text') || types.includes('match_only_text'), keywordChild: found[`${field}.keyword`] !== undefined });
      }
    }
    return (field) => {
      const caps = this.caps.get(field);
      if (caps === undefined || !caps.text) return { exact: field, text: false };
      return caps.keywordChild ? { exact: `${field}.keyword`, text: false } : { exact: field, text: true };
    };
  }

  async search(query: LogQuery): Promise<FoundRecord[]> {
    const body = buildEsQuery(query, await this.resolver(query));
    const response = (await this.call('POST', this.path('_search'), body)) as { hits?: { hits?: Hit[] } };
    return (response.hits?.hits ?? []).map((hit) => {
      const timestamp = String(hit._source['@timestamp'] ?? '');
      const tsMicros = timestampMicros(timestamp);
      // Sort values of date_nanos are nanosecond longs, beyond a double's precision: the next page starts
      // after the document's own timestamp string instead, which Elasticsearch parses exactly.
      const after = [timestamp !== '' ? timestamp : hit.sort[0], ...hit.sort.slice(1)];
      return { id: hit._id, tsMicros, doc: hit._source, cursor: { tsMicros, tiebreak: JSON.stringify(after) } };
    });
  }

  async count(query: LogQuery, cap: number): Promise<{ count: number; exact: boolean }> {
    const { query: filter } = buildEsQuery(query, await this.resolver(query));
    const response = (await this.call('POST', this.path('_search'), { size: 0, query: filter, track_total_hits: cap + 1 })) as {
      hits?: { total?: number | { value: number; relation: string } };
    };
    const total = response.hits?.total;
    const value = typeof total === 'number' ? total : (total?.value ?? 0);
    return value > cap ? { count: cap, exact: false } : { count: value, exact: typeof total === 'number' || total?.relation !== 'gte' };
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}
