/**
 * One call for the agent's wiring: the metadata service (started, bounded by `startTimeoutMs`), the
 * enrichment transform on top of it, its metrics and its shutdown. Undefined when disabled or when no
 * API server is configured (records then keep file-name metadata).
 */
import type { MetricFamily, MetricsSource } from '../core/metrics.js';
import { EnrichKubernetes } from '../transforms/enrich-kubernetes.js';
import type { KubernetesConfig } from './config.js';
import { createKubernetesMetadata, type CreateKubernetesMetadataOptions, type KubernetesMetadata } from './metadata-service.js';
import { kubernetesMetrics } from './metrics.js';

export interface KubernetesEnrichment extends MetricsSource {
  service: KubernetesMetadata;
  transform: EnrichKubernetes;
  stop(): Promise<void>;
}

export async function createKubernetesEnrichment(
  config: KubernetesConfig,
  options: CreateKubernetesMetadataOptions,
): Promise<KubernetesEnrichment | undefined> {
  const service = await createKubernetesMetadata(config, options);
  if (service === undefined) return undefined;
  await service.start();
  const transform = new EnrichKubernetes(service, { waitForPodMs: config.waitForPodMs });
  return {
    service,
    transform,
    describeMetrics: (): MetricFamily[] =>
      kubernetesMetrics(
        () => service.stats(),
        () => transform.counters,
      ),
    stop: () => service.stop(),
  };
}
