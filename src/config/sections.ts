/**
 * Component schemas owned by their own folders, gathered here so the top-level schema stays readable.
 */
import { z } from 'zod';
import { elasticsearchSinkConfigSchema, resolveElasticsearchConfig, type ElasticsearchConfig, type ElasticsearchFileConfig } from '../sinks/elasticsearch/config.js';

export const configSectionSchemas = {
  elasticsearch: elasticsearchSinkConfigSchema,
  kubernetes: z.unknown(),
  async resolveElasticsearch(fromFile: ElasticsearchFileConfig | undefined, env: NodeJS.ProcessEnv): Promise<ElasticsearchConfig | undefined> {
    return resolveElasticsearchConfig(fromFile, env);
  },
};
