/**
 * Issue 13, item 2: after the API server comes back from a crash, the pods list+watch may be sleeping out a
 * long backoff. Records of a pod it has not seen must not take that as "nothing is coming": they make the
 * metadata service reconnect at once (rate-limited) and wait, bounded, for the pod. Pods given up on while
 * the API was away are waited for once more when it is back; a flood of unknown pods during an outage does
 * not turn into a request storm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeKubeApiServer } from '../helpers/fake-kube-apiserver.js';
import { deploymentPod, makeNamespace, makePod } from '../helpers/fake-kube-objects.js';
import { containerFile, FileAcks } from '../helpers/kube-records.js';
import { startService, until } from '../helpers/kube-service.js';
import { EnrichKubernetes } from '../../src/transforms/enrich-kubernetes.js';
import { maxAttemptsWithin } from '../../src/core/backoff.js';
import type { KubernetesConfigInput } from '../../src/kubernetes/config.js';
import type { LogRecord } from '../../src/event/record.js';
import { kubernetesMetrics } from '../../src/kubernetes/metrics.js';
import { registerFamilies } from '../../src/server/mirrored-metrics.js';
import { Registry } from 'prom-client';

const doc = (record: LogRecord) => JSON.parse('{' + record.meta.json + '}');

async function setup(t: { after(fn: () => unknown): void }, overrides: KubernetesConfigInput) {
  const fake = await FakeKubeApiServer.start();
  fake.addNamespace(makeNamespace('shop', { team: 'payments' }));
  fake.addPod(deploymentPod({ namespace: 'shop', deployment: 'web', nodeName: 'node-a', containers: [{ name: 'app' }] }));
  const { service } = await startService(fake, overrides);
  t.after(async () => {
    await service.stop();
    await fake.close();
  });
  return { fake, service };
}

test("API server back after a crash while the watch sleeps out a long backoff: a new pod's records reconnect it at once and get the pod's labels", async (t) => {
  const waitForPodMs = 5000;
  const { fake, service } = await setup(t, { backoff: { minMs: 200, maxMs: 30_000 }, waitForPodMs });
  const transform = new EnrichKubernetes(service, { waitForPodMs });
  await fake.goDown('reset');
  // Six failures in a row: the delay now being slept out is at least 200 × 2^5 / 2 = 3.2 s.
  await until(() => service.stats().pods.errors >= 6, 20_000, 'the backoff to grow');
  const failedAt = Date.now();
  await fake.comeUp();
  const uid = '0b7e2c1a-0000-4000-8000-000000000013';
  fake.addPod(
    makePod({
      namespace: 'shop',
      name: 'checkout-7d9f',
      uid,
      nodeName: 'node-a',
      labels: { app: 'checkout' },
      owner: { kind: 'ReplicaSet', name: 'checkout-5c8b' },
      containers: [{ name: 'app', image: 'shop/checkout:2.1' }],
    }),
  );
  assert.equal(service.connected, false, 'the watch is still backing off');

  const file = containerFile({ namespace: 'shop', podName: 'checkout-7d9f', containerName: 'app', podUid: uid });
  const out = await transform.process(new FileAcks().batch(file, 3, 300).records);
  const tookMs = Date.now() - failedAt;
  t.diagnostic(`enriched ${tookMs} ms after the last failed attempt`);
  assert.equal(out.length, 3);
  const d = doc(out[0]);
  assert.equal(d.kubernetes.labels.app, 'checkout');
  assert.equal(d.kubernetes.replicaset.name, 'checkout-5c8b');
  assert.equal(d.container.image.name, 'shop/checkout:2.1');
  assert.equal(d.kubernetes.namespace_labels.team, 'payments');
  assert.equal(transform.counters.metadataMissing, 0);
  assert.ok(tookMs < 2500, `took ${tookMs} ms: the backoff delay (≥ 3.2 s) was not cut short`);
  assert.equal(service.stats().waitTimeouts, 0);
  const registry = new Registry();
  registerFamilies(
    registry,
    kubernetesMetrics(() => service.stats()),
  );
  assert.match(await registry.metrics(), /logferry_kubernetes_early_retries_total\{resource="pods"\} [1-9]/);
});

test('a pod given up on while the API is down ships at its bound, is waited for once more when the API is back, then given up for good', async (t) => {
  const waitForPodMs = 300;
  const { fake, service } = await setup(t, { backoff: { minMs: 100, maxMs: 1000 }, waitForPodMs });
  const transform = new EnrichKubernetes(service, { waitForPodMs });
  const acks = new FileAcks();
  const ghost = containerFile({ namespace: 'shop', podName: 'never-listed', containerName: 'c' });
  let offset = 0;
  const batch = () => transform.process(acks.batch(ghost, 2, (offset += 200), offset - 200).records);

  await fake.goDown('reset');
  await until(() => !service.connected, 5000, 'disconnect noticed');
  const started = Date.now();
  const during = batch();
  assert.ok(during instanceof Promise, 'disconnected is not "nothing is coming": the batch waits while a reconnect is tried');
  const shipped = await during;
  const waited = Date.now() - started;
  assert.ok(waited >= waitForPodMs - 20 && waited < waitForPodMs + 1000, `waited ${waited} ms`);
  assert.equal(shipped[0].meta, ghost.meta, 'the reconnect failed: file-name metadata');
  assert.equal(service.stats().waitTimeouts, 1);
  assert.ok(Array.isArray(batch()), 'given up for this outage: later batches ship at once');

  await fake.comeUp();
  await until(() => service.connected, 5000, 'reconnect');
  const again = batch();
  assert.ok(again instanceof Promise, 'the API is back: waited for once more');
  assert.equal((await again)[0].meta, ghost.meta);
  assert.equal(service.stats().waitTimeouts, 2);
  assert.ok(Array.isArray(batch()), 'not found with the watch up the whole time: given up for good');
  assert.equal(service.stats().waits, 2);
  assert.equal(transform.counters.metadataMissing, 8);
});

test('a flood of unknown pods during an outage: every batch ends at its bound, and the API server gets no request storm', async (t) => {
  const backoff = { minMs: 200, maxMs: 30_000 };
  const waitForPodMs = 300;
  const { fake, service } = await setup(t, { backoff, waitForPodMs });
  const transform = new EnrichKubernetes(service, { waitForPodMs });
  await fake.goDown('reset');
  await until(() => !service.connected, 5000, 'disconnect noticed');
  const attemptsBefore = fake.rejectedConnections;
  const windowMs = 3000;
  const started = Date.now();
  const batches: Promise<LogRecord[]>[] = [];
  for (let i = 0; Date.now() - started < windowMs; i++) {
    const file = containerFile({ namespace: 'shop', podName: `unknown-${i}`, containerName: 'c' });
    batches.push(Promise.resolve(transform.process(new FileAcks().batch(file, 1, 100).records)));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const out = await Promise.all(batches);
  const elapsed = Date.now() - started;
  const attempts = fake.rejectedConnections - attemptsBefore;
  // Per resource: the backoff's own attempts, plus early ones at most one per minMs.
  const bound = 2 * (maxAttemptsWithin(elapsed, backoff) + Math.ceil(elapsed / backoff.minMs) + 1);
  t.diagnostic(`${batches.length} unknown pods in ${elapsed} ms: ${attempts} connection attempts (bound ${bound})`);
  assert.ok(batches.length > 100, `only ${batches.length} batches`);
  assert.ok(attempts <= bound, `${attempts} connection attempts > bound ${bound}`);
  assert.ok(out.every((records) => records.length === 1 && records[0].meta === records[0].file.meta));
  assert.equal(service.stats().waitTimeouts, batches.length, 'every wait ran out, and was counted');
  assert.ok(elapsed < windowMs + waitForPodMs + 1000, `the last batch took too long: ${elapsed} ms`);
});

test("the API server refusing the credentials (401): unknown pods' records still wait their bound, but never cut the backoff short", async (t) => {
  const backoff = { minMs: 200, maxMs: 30_000 };
  const waitForPodMs = 300;
  const { fake, service } = await setup(t, { backoff, waitForPodMs });
  const transform = new EnrichKubernetes(service, { waitForPodMs });
  fake.setTokens(['revoked-everyone']);
  fake.cutWatches();
  await until(() => service.stats().pods.unauthorized >= 1 && !service.connected, 5000, 'the first 401');
  const started = Date.now();
  const batches: Promise<LogRecord[]>[] = [];
  for (let i = 0; Date.now() - started < 2000; i++) {
    const file = containerFile({ namespace: 'shop', podName: `unknown-${i}`, containerName: 'c' });
    batches.push(Promise.resolve(transform.process(new FileAcks().batch(file, 1, 100).records)));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.all(batches);
  const elapsed = Date.now() - started;
  const refused = fake.requests.filter((r) => r.status === 401).length;
  const bound = 2 * maxAttemptsWithin(elapsed + 500, backoff);
  t.diagnostic(`${batches.length} unknown pods in ${elapsed} ms: ${refused} refused requests (bound without early retries ${bound})`);
  assert.ok(refused <= bound, `${refused} refused requests > ${bound}: the backoff was cut short`);
  const registry = new Registry();
  registerFamilies(
    registry,
    kubernetesMetrics(() => service.stats()),
  );
  assert.match(await registry.metrics(), /logferry_kubernetes_early_retries_total\{resource="pods"\} 0\n/);
  assert.equal(service.stats().waitTimeouts, batches.length);
});

test("agent started while the API server is down: a pod's records wait, the first list is retried at once, and they get the pod's labels", async (t) => {
  const waitForPodMs = 5000;
  const fake = await FakeKubeApiServer.start();
  fake.addNamespace(makeNamespace('shop', { team: 'payments' }));
  const uid = '0b7e2c1a-0000-4000-8000-000000000031';
  fake.addPod(
    makePod({ namespace: 'shop', name: 'early-1', uid, nodeName: 'node-a', labels: { app: 'early' }, containers: [{ name: 'app', image: 'shop/early:1' }] }),
  );
  await fake.goDown('refuse');
  const { service } = await startService(fake, { startTimeoutMs: 200, waitForPodMs, backoff: { minMs: 200, maxMs: 30_000 } });
  t.after(async () => {
    await service.stop();
    await fake.close();
  });
  assert.equal(service.synced, false);
  await until(() => service.stats().pods.errors >= 6, 20_000, 'the backoff to grow');
  await fake.comeUp();
  const comeUpAt = Date.now();
  const transform = new EnrichKubernetes(service, { waitForPodMs });
  const out = await transform.process(
    new FileAcks().batch(containerFile({ namespace: 'shop', podName: 'early-1', containerName: 'app', podUid: uid }), 3, 300).records,
  );
  const tookMs = Date.now() - comeUpAt;
  t.diagnostic(`enriched ${tookMs} ms after the API server came up`);
  const d = doc(out[0]);
  assert.equal(d.kubernetes.labels.app, 'early');
  assert.equal(d.container.image.name, 'shop/early:1');
  assert.equal(transform.counters.metadataMissing, 0);
  assert.ok(tookMs < 2500, `took ${tookMs} ms: the first list's backoff (≥ 3.2 s) was not cut short`);
});
