/**
 * The index templates logferry installs at start, so Kibana gets the right field types whatever the
 * first document of the day looks like: `@timestamp` as date_nanos (CRI timestamps have nanoseconds),
 * `message` as text, identity fields (`kubernetes.*`, `container.*`, `host.*`, `log.*`) as keywords,
 * labels and annotations as keywords through dynamic templates (a label value that looks like a number
 * or a date never fights another over a mapping), `json.*` left to dynamic mapping.
 */
import { MESSAGE_ANALYZER, messageAnalysisSettings } from '../../core/message-tokens.js';
import type { ServerInfo } from './server-info.js';

const keyword = { type: 'keyword', ignore_above: 1024 } as const;
const long = { type: 'long' } as const;

/** Objects whose string leaves are identifiers, never prose. */
const KEYWORD_OBJECTS = ['kubernetes', 'container', 'host', 'log', 'service', 'orchestrator', 'cloud'];
/** Maps of user-chosen keys (dedotted): always keywords, whatever the value looks like. */
const KEYWORD_MAPS = [
  'kubernetes.labels',
  'kubernetes.namespace_labels',
  'kubernetes.annotations',
  'kubernetes.namespace_annotations',
  'kubernetes.node.labels',
];

/** owner workloads (`kubernetes.deployment.name`, ...) */
const owner = { properties: { name: keyword } };

export function logsMappings(server: ServerInfo): Record<string, unknown> {
  return {
    dynamic_templates: [
      ...KEYWORD_MAPS.map((path) => ({ [path.replaceAll('.', '_')]: { path_match: `${path}.*`, mapping: keyword } })),
      ...KEYWORD_OBJECTS.map((name) => ({ [`${name}_strings`]: { path_match: `${name}.*`, match_mapping_type: 'string', mapping: keyword } })),
    ],
    properties: {
      '@timestamp': { type: server.dateNanos ? 'date_nanos' : 'date' },
      // Words as the local store cuts them (core/message-tokens.ts): the same query finds the same records.
      // Indices created before this analyzer keep the standard one until the next daily index.
      message: { type: 'text', analyzer: MESSAGE_ANALYZER },
      stream: keyword,
      log: {
        properties: {
          level: keyword,
          offset: long,
          flags: keyword,
          file: { properties: { path: keyword } },
          origin: { properties: { file: { properties: { name: keyword, line: long } }, function: keyword } },
        },
      },
      kubernetes: {
        properties: {
          namespace: keyword,
          pod: { properties: { name: keyword, uid: keyword, ip: keyword } },
          container: { properties: { name: keyword } },
          node: { properties: { name: keyword } },
          deployment: owner,
          statefulset: owner,
          daemonset: owner,
          replicaset: owner,
          job: owner,
          cronjob: owner,
        },
      },
      container: { properties: { id: keyword, name: keyword, runtime: keyword, image: { properties: { name: keyword } } } },
      host: { properties: { name: keyword, hostname: keyword } },
      service: { properties: { name: keyword } },
      process: { properties: { pid: long, thread: { properties: { id: long } } } },
    },
  };
}

/**
 * Dead letters: searchable by reason, status, index and origin; the rejected document is kept as a string
 * that is stored, not indexed (it is what failed to index in the first place).
 */
export function deadLetterMappings(): Record<string, unknown> {
  return {
    dynamic: false,
    properties: {
      '@timestamp': { type: 'date' },
      reason: { type: 'keyword', ignore_above: 8191 },
      error: { properties: { status: { type: 'integer' }, type: keyword, reason: { type: 'text' } } },
      index: keyword,
      id: keyword,
      record_timestamp: keyword,
      document: { type: 'keyword', index: false, doc_values: false, ignore_above: 32766 },
      document_truncated: { type: 'boolean' },
      log: { properties: { file: { properties: { path: keyword } }, offset: long } },
      kubernetes: { properties: { namespace: keyword, pod: { properties: { name: keyword } }, container: { properties: { name: keyword } } } },
      host: { properties: { name: keyword } },
    },
  };
}

export interface TemplateRequest {
  path: string;
  body: Record<string, unknown>;
}

export interface TemplateTargets {
  index: string;
  dataStream?: string;
  deadLetterIndex: string;
}

/**
 * The PUTs that install both templates, in the form this server understands; `settings` are added to the
 * logs template's (the lifecycle policy, lifecycle.ts).
 */
export function templateRequests(server: ServerInfo, targets: TemplateTargets, settings: Record<string, unknown> = {}): TemplateRequest[] {
  const logsName = `logferry-${targets.dataStream ?? targets.index}`;
  const logsPattern = targets.dataStream ?? `${targets.index}-*`;
  const deadName = `logferry-${targets.deadLetterIndex}`;
  const deadPattern = `${targets.deadLetterIndex}-*`;
  const meta = { managed_by: 'logferry' };
  if (server.composableTemplates) {
    return [
      {
        path: `/_index_template/${logsName}`,
        body: {
          index_patterns: [logsPattern],
          // Above Elasticsearch's built-in `logs-*-*` (100), so a named data stream gets these mappings.
          priority: 200,
          ...(targets.dataStream !== undefined ? { data_stream: {} } : {}),
          template: { settings: { ...messageAnalysisSettings(), ...settings }, mappings: logsMappings(server) },
          _meta: meta,
        },
      },
      {
        path: `/_index_template/${deadName}`,
        body: { index_patterns: [deadPattern], priority: 200, template: { mappings: deadLetterMappings() }, _meta: meta },
      },
    ];
  }
  const typed = (mappings: Record<string, unknown>) => (server.needsType ? { _doc: { ...mappings, _meta: meta } } : { ...mappings, _meta: meta });
  return [
    {
      path: `/_template/${logsName}`,
      body: { index_patterns: [logsPattern], order: 10, settings: { ...messageAnalysisSettings(), ...settings }, mappings: typed(logsMappings(server)) },
    },
    { path: `/_template/${deadName}`, body: { index_patterns: [deadPattern], order: 10, mappings: typed(deadLetterMappings()) } },
  ];
}
