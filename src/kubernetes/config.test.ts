import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubernetesConfigSchema } from './config.js';

test('kubernetes config: defaults, strictness, units', () => {
  const config = kubernetesConfigSchema.parse({});
  assert.equal(config.enabled, true);
  assert.equal(config.waitForPodMs, 2000);
  assert.equal(config.deletedPodGraceMs, 60_000);
  assert.deepEqual(config.backoff, { minMs: 500, maxMs: 30_000 });
  assert.deepEqual(config.annotations, []);
  const unknown = kubernetesConfigSchema.safeParse({ nodename: 'x' });
  assert.equal(unknown.success, false);
  assert.match(JSON.stringify(unknown.error?.issues), /nodename/);
  assert.equal(kubernetesConfigSchema.safeParse({ backoff: { minMs: 5000, maxMs: 100 } }).success, false);
  assert.equal(kubernetesConfigSchema.safeParse({ apiServer: 'not a url' }).success, false);
  assert.equal(kubernetesConfigSchema.safeParse({ backoff: { minMs: 1, maxMs: 2, extra: 1 } }).success, false);
});
