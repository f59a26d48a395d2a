/**
 * The transforms the configuration asks for, in order. Kubernetes enrichment runs for the node profile
 * when an API server can be reached (in-cluster or kubeconfig); otherwise records keep file-name metadata.
 */
import type { MetricsSource } from '../core/metrics.js';
import type { Config } from '../config/load.js';
import type { Transform } from '../transforms/transform.js';
import type { Logger } from './logger.js';
import type { PodMetadataLookup } from '../kubernetes/metadata-service.js';

export interface BuiltTransforms {
  transforms: Transform[];
  stop(): Promise<void>;
  /** the enrichment's series for /metrics */
  metrics?: MetricsSource;
  /** per-pod options (annotations) for sources, when Kubernetes metadata is on */
  pods?: PodMetadataLookup;
  /** for a oneshot run's summary: records shipped without pod metadata, and whether the API ever listed the pods */
  metadata?: () => MetadataOutcome;
}

export interface MetadataOutcome {
  /** container records shipped with file-name metadata only */
  missing: number;
  /** the pods of this node were listed: metadata missing then means pods the API server no longer has */
  listed: boolean;
  /** the last error of the pods list/watch (e.g. 403 Forbidden), when it never listed them */
  error: string | undefined;
}

export async function buildTransforms(config: Config, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<BuiltTransforms> {
  if (config.profile !== 'node') return { transforms: [], stop: async () => undefined };
  const { kubernetesConfigSchema } = await import('../kubernetes/config.js');
  const kubernetes = config.kubernetes ?? kubernetesConfigSchema.parse({});
  const { createKubernetesEnrichment } = await import('../kubernetes/enrichment.js');
  const enrichment = await createKubernetesEnrichment(kubernetes, {
    env,
    nodeName: config.nodeName,
    log: {
      info: (context, message) => logger.info(context, message),
      warn: (context, message) => logger.warn(context, message),
      debug: (context, message) => logger.debug(context, message),
    },
  });
  if (enrichment === undefined) return { transforms: [], stop: async () => undefined };
  return {
    transforms: [enrichment.transform],
    stop: () => enrichment.stop(),
    metrics: enrichment,
    pods: enrichment.service,
    metadata: () => ({
      missing: enrichment.transform.counters.metadataMissing,
      listed: enrichment.service.synced,
      error: enrichment.service.stats().pods.lastError,
    }),
  };
}
