/**
 * What the cluster is, asked once at start (`GET /`), and what that means for requests and templates:
 * Elasticsearch 6.8 wants a `_type` in bulk actions and knows no date_nanos; composable templates exist from
 * Elasticsearch 7.8 and in every OpenSearch; data streams need Elasticsearch 7.9+ with its default
 * distribution (the OSS build has none) or OpenSearch 1.0+, so they are probed rather than assumed.
 */
import type { Transport } from './transport.js';

export interface ServerInfo {
  distribution: 'elasticsearch' | 'opensearch';
  version: string;
  major: number;
  minor: number;
  /** `oss`, `default`, or `unknown` (builds that do not say) */
  flavor: string;
  /** composable `_index_template` (Elasticsearch 7.8+, OpenSearch) vs legacy `_template` */
  composableTemplates: boolean;
  /** Elasticsearch 6 wants `_type` in bulk actions and type-wrapped template mappings */
  needsType: boolean;
  /** the date_nanos field type (Elasticsearch 7.0+, OpenSearch) */
  dateNanos: boolean;
}

/** The parsed `GET /` answer; undefined when it is not one a cluster gives (no version number). */
export function parseServerInfo(body: unknown): ServerInfo | undefined {
  const version = (body as { version?: { number?: unknown; distribution?: unknown; build_flavor?: unknown } } | undefined)?.version;
  if (typeof version?.number !== 'string') return undefined;
  const match = /^(\d+)\.(\d+)/.exec(version.number);
  if (match === null) return undefined;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  const opensearch = version.distribution === 'opensearch';
  return {
    distribution: opensearch ? 'opensearch' : 'elasticsearch',
    version: version.number,
    major,
    minor,
    flavor: typeof version.build_flavor === 'string' ? version.build_flavor : 'unknown',
    composableTemplates: opensearch || major > 7 || (major === 7 && minor >= 8),
    needsType: !opensearch && major < 7,
    dateNanos: opensearch || major >= 7,
  };
}

/** `Elasticsearch 7.10.2`, `OpenSearch 2.11.0` */
export function describeServer(info: ServerInfo): string {
  return `${info.distribution === 'opensearch' ? 'OpenSearch' : 'Elasticsearch'} ${info.version}`;
}

/** Why logferry cannot work with this server, or undefined. */
export function unsupportedReason(info: ServerInfo): string | undefined {
  if (info.distribution === 'elasticsearch' && (info.major < 6 || (info.major === 6 && info.minor < 8))) {
    return `${describeServer(info)} is too old: logferry needs Elasticsearch 6.8 or later, or OpenSearch`;
  }
  return undefined;
}

/**
 * Whether the cluster has data streams: `GET /_data_stream/<name>` answers 200 (exists) or 404 (not yet)
 * where they exist; a build without them has no such endpoint (405, or 400 reading it as an index name).
 * Undefined when the question could not be asked (no answer).
 */
export async function probeDataStreams(transport: Transport, name: string): Promise<{ supported: boolean; detail: string } | undefined> {
  const result = await transport.request('GET', `/_data_stream/${encodeURIComponent(name)}`);
  if (result.kind === 'error') return undefined;
  if (result.status === 200 || result.status === 404) return { supported: true, detail: `GET /_data_stream answered ${result.status}` };
  if (result.status >= 500 || result.status === 429) return undefined;
  // Not allowed to look (an API key limited to writing): the bulk answers will tell.
  if (result.status === 401 || result.status === 403) return { supported: true, detail: `cannot tell: GET /_data_stream answered ${result.status}` };
  return { supported: false, detail: `GET /_data_stream answered ${result.status}: ${result.body.slice(0, 200)}` };
}
