/**
 * What the cluster is, and the index templates logferry installs so Kibana gets the right field types:
 * `@timestamp` as date_nanos, identity fields as keywords, labels and annotations as keywords through
 * dynamic templates (a label value can never fight another over a mapping).
 */
export interface ServerInfo {
  distribution: 'elasticsearch' | 'opensearch';
  version: string;
  major: number;
  minor: number;
  /** composable `_index_template` (Elasticsearch 7.8+, OpenSearch) vs legacy `_template` */
  composableTemplates: boolean;
  /** Elasticsearch 6 still wants a `_type` in bulk actions */
  needsType: boolean;
}

export function parseServerInfo(body: unknown): ServerInfo {
  const version = (body as { version?: { number?: string; distribution?: string } })?.version;
  const number = version?.number ?? '0.0.0';
  const [major, minor] = number.split('.').map((n) => Number.parseInt(n, 10));
  const distribution = version?.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch';
  return {
    distribution,
    version: number,
    major,
    minor,
    composableTemplates: distribution === 'opensearch' || major > 7 || (major === 7 && minor >= 8),
    needsType: distribution === 'elasticsearch' && major < 7,
  };
}

const keyword = { type: 'keyword', ignore_above: 1024 };

const KEYWORD_OBJECTS = ['kubernetes', 'container', 'host', 'service', 'klog', 'docker'];

function mappings(): Record<string, unknown> {
  return {
    dynamic_templates: [
      { labels: { path_match: 'kubernetes.labels.*', mapping: keyword } },
      { namespace_labels: { path_match: 'kubernetes.namespace_labels.*', mapping: keyword } },
      { annotations: { path_match: 'kubernetes.annotations.*', mapping: keyword } },
      ...KEYWORD_OBJECTS.map((name) => ({ [`${name}_strings`]: { path_match: `${name}.*`, match_mapping_type: 'string', mapping: keyword } })),
    ],
    properties: {
      '@timestamp': { type: 'date_nanos' },
      message: { type: 'text' },
      stream: keyword,
      log: {
        properties: {
          level: keyword,
          offset: { type: 'long' },
          flags: keyword,
          file: { properties: { path: keyword } },
          origin: { properties: { file: { properties: { name: keyword, line: { type: 'long' } } } } },
        },
      },
      kubernetes: {
        properties: {
          namespace: keyword,
          pod: { properties: { name: keyword, uid: keyword, ip: keyword } },
          container: { properties: { name: keyword } },
          node: { properties: { name: keyword } },
          deployment: { properties: { name: keyword } },
          statefulset: { properties: { name: keyword } },
          daemonset: { properties: { name: keyword } },
          job: { properties: { name: keyword } },
          cronjob: { properties: { name: keyword } },
          replicaset: { properties: { name: keyword } },
        },
      },
      container: { properties: { id: keyword, image: { properties: { name: keyword } } } },
      host: { properties: { name: keyword } },
      service: { properties: { name: keyword } },
      process: { properties: { thread: { properties: { id: { type: 'long' } } } } },
    },
  };
}

function deadLetterMappings(): Record<string, unknown> {
  return {
    dynamic: false,
    properties: {
      '@timestamp': { type: 'date' },
      document: { type: 'text', index: false },
      index: keyword,
      status: { type: 'integer' },
      reason: { properties: { type: keyword, reason: { type: 'text' } } },
      id: keyword,
      log: { properties: { file: { properties: { path: keyword } } } },
    },
  };
}

export interface TemplateRequest {
  path: string;
  body: Record<string, unknown>;
}

export function templateRequests(server: ServerInfo, index: string, deadLetterIndex: string, dataStream: string | undefined): TemplateRequest[] {
  const logsPattern = dataStream ?? `${index}-*`;
  const requests: TemplateRequest[] = [];
  if (server.composableTemplates) {
    requests.push({
      path: `/_index_template/logferry-${dataStream ? 'datastream' : index}`,
      body: {
        index_patterns: [logsPattern],
        priority: 200,
        ...(dataStream ? { data_stream: {} } : {}),
        template: { mappings: mappings() },
        _meta: { managed_by: 'logferry' },
      },
    });
    requests.push({
      path: `/_index_template/logferry-deadletter`,
      body: { index_patterns: [`${deadLetterIndex}-*`], priority: 200, template: { mappings: deadLetterMappings() } },
    });
  } else {
    const typed = (m: Record<string, unknown>) => (server.needsType ? { _doc: m } : m);
    requests.push({ path: `/_template/logferry-${index}`, body: { index_patterns: [logsPattern], order: 10, mappings: typed(mappings()) } });
    requests.push({ path: `/_template/logferry-deadletter`, body: { index_patterns: [`${deadLetterIndex}-*`], order: 10, mappings: typed(deadLetterMappings()) } });
  }
  return requests;
}
