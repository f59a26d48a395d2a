/**
 * Component schemas owned by their own folders, gathered here so the top-level schema stays readable.
 */
import { kubernetesConfigSchema } from '../kubernetes/config.js';
import {
  elasticsearchSinkConfigSchema,
  resolveElasticsearchConfig,
  type ElasticsearchConfig,
  type ElasticsearchFileConfig,
} from '../sinks/elasticsearch/config.js';

export const configSectionSchemas = {
  elasticsearch: elasticsearchSinkConfigSchema,
  kubernetes: kubernetesConfigSchema,
  async resolveElasticsearch(fromFile: ElasticsearchFileConfig | undefined, env: NodeJS.ProcessEnv): Promise<ElasticsearchConfig | undefined> {
    return resolveElasticsearchConfig(fromFile, env);
  },
};
