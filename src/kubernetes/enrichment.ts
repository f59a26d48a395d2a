/**
 * One call for the agent's wiring: the metadata service (started, bounded by `startTimeoutMs`), the
 * enrichment transform on top of it, its metrics and its shutdown. Undefined when disabled or when no
 * API server is configured (records then keep file-name metadata).
 */
import type { Registry } from 'prom-client';
import { EnrichKubernetes } from '../transforms/enrich-kubernetes.js';
import type { KubernetesConfig } from './config.js';
import { createKubernetesMetadata, type CreateKubernetesMetadataOptions, type KubernetesMetadata } from './metadata-service.js';
import { registerKubernetesMetrics } from './metrics.js';

export interface KubernetesEnrichment {
  service: KubernetesMetadata;
  transform: EnrichKubernetes;
  registerMetrics(registry: Registry): void;
  stop(): Promise<void>;
}

export async function createKubernetesEnrichment(config: KubernetesConfig, options: CreateKubernetesMetadataOptions): Promise<KubernetesEnrichment | undefined> {
  const service = await createKubernetesMetadata(config, options);
  if (service === undefined) return undefined;
  await service.start();
  const transform = new EnrichKubernetes(service, { waitForPodMs: config.waitForPodMs });
  return {
    service,
    transform,
    registerMetrics: (registry) => registerKubernetesMetrics(registry, () => service.stats(), () => transform.counters),
    stop: () => service.stop(),
  };
}
