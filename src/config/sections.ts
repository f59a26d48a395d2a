/**
 * Component schemas owned by their own folders, gathered here so the top-level schema stays readable.
 * (Temporary stand-ins until the Elasticsearch sink and Kubernetes cache export theirs.)
 */
import { z } from 'zod';

export const configSectionSchemas = {
  elasticsearch: z.unknown(),
  kubernetes: z.unknown(),
  async resolveElasticsearch(_fromFile: unknown, _env: NodeJS.ProcessEnv): Promise<Record<string, unknown> | undefined> {
    return undefined;
  },
};
