/** Starting the real Kubernetes metadata service against a fake API server, for tests. */
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubernetesConfigSchema, type KubernetesConfigInput } from '../../src/kubernetes/config.js';
import { createKubernetesMetadata, type KubernetesMetadata } from '../../src/kubernetes/metadata-service.js';
import type { FakeKubeApiServer } from './fake-kube-apiserver.js';

export interface TestService {
  service: KubernetesMetadata;
  tokenFile: string;
  /** replaces the token file atomically, as the kubelet does when it rotates a projected token */
  rotateToken(token: string): void;
}

export async function startService(fake: FakeKubeApiServer, overrides: KubernetesConfigInput = {}, token = 'test-token'): Promise<TestService> {
  const dir = mkdtempSync(join(tmpdir(), 'logferry-kube-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, token);
  const config = kubernetesConfigSchema.parse({
    apiServer: fake.url,
    tokenFile,
    nodeName: 'node-a',
    backoff: { minMs: 50, maxMs: 500 },
    startTimeoutMs: 3000,
    ...overrides,
  });
  const service = await createKubernetesMetadata(config, { env: {} });
  if (service === undefined) throw new Error('no service');
  await service.start();
  // Steady state: both watches open on the server (start() returns after the lists).
  if (service.synced) await until(() => fake.activeWatches >= 2, 5000, 'watches established');
  return {
    service,
    tokenFile,
    rotateToken(next) {
      writeFileSync(tokenFile + '.tmp', next);
      renameSync(tokenFile + '.tmp', tokenFile);
    },
  };
}

export async function until(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
