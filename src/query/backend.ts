/** Which backend the query commands read: Elasticsearch when the environment names one, else the local store. */
import { defaultDataDir } from '../config/load.js';
import { resolveElasticsearchConfig } from '../sinks/elasticsearch/config.js';
import { ElasticsearchBackend } from './elasticsearch.js';
import { LocalStoreBackend } from './local.js';
import type { QueryBackend } from './query.js';

export function openBackend(options: { dataDir?: string; index?: string; env: NodeJS.ProcessEnv }): QueryBackend {
  const es = resolveElasticsearchConfig(undefined, options.env);
  if (es !== undefined) return new ElasticsearchBackend(es, options.index);
  return new LocalStoreBackend(options.dataDir ?? options.env.LOGFERRY_DATA_DIR ?? defaultDataDir(options.env));
}
