/**
 * Which backend the query commands read: Elasticsearch when the environment names one (the same
 * ELASTICSEARCH_* variables as the agent), else the local store. An explicit --data-dir means the local store.
 */
import { resolveElasticsearchConfig, type ElasticsearchConfig } from '../sinks/elasticsearch/config.js';
import { defaultDataDir } from '../store/paths.js';
import { ElasticsearchBackend } from './elasticsearch.js';
import { LocalStoreBackend } from './local.js';
import type { QueryBackend } from './query.js';

export interface BackendOptions {
  dataDir?: string;
  /** Elasticsearch index pattern or data stream (default `<index>-*`, i.e. `logstash-*`) */
  index?: string;
  env: NodeJS.ProcessEnv;
  /** from the agent's configuration file (`--config`); else the environment's */
  elasticsearch?: ElasticsearchConfig;
}

export function openBackend(options: BackendOptions): QueryBackend {
  const es = options.dataDir === undefined ? (options.elasticsearch ?? resolveElasticsearchConfig(undefined, options.env)) : undefined;
  if (es !== undefined) return new ElasticsearchBackend(es, options.index);
  return new LocalStoreBackend(options.dataDir ?? options.env.LOGFERRY_DATA_DIR ?? defaultDataDir(options.env));
}
