/**
 * The enrichment transform with the real metadata service and the fake API server: shared metadata per
 * container, bounded waits for pods that appear late (also while the API is away), excluded pods
 * acknowledged and counted, deleted pods' last lines still enriched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeKubeApiServer } from '../helpers/fake-kube-apiserver.js';
import { deploymentPod, makeNamespace, makePod, randomContainerId } from '../helpers/fake-kube-objects.js';
import { containerFile, FileAcks, makeRecord } from '../helpers/kube-records.js';
import { sleep, startService, until } from '../helpers/kube-service.js';
import { EnrichKubernetes } from '../../src/transforms/enrich-kubernetes.js';
import { metadataFromIdentity } from '../../src/event/metadata.js';
import type { FileContext, LogRecord } from '../../src/event/record.js';
import { OrderedAcks } from '../../src/agent/acks.js';
import { Registry } from 'prom-client';
import { kubernetesMetrics } from '../../src/kubernetes/metrics.js';
import { registerFamilies } from '../../src/server/mirrored-metrics.js';

const doc = (record: LogRecord) => JSON.parse('{' + record.meta.json + '}');

async function setup(t: { after(fn: () => unknown): void }, overrides: Parameters<typeof startService>[1] = {}) {
  const fake = await FakeKubeApiServer.start();
  fake.addNamespace(makeNamespace('shop', { team: 'payments' }));
  const webId = randomContainerId();
  const web = fake.addPod(
    deploymentPod({
      namespace: 'shop',
      deployment: 'web',
      nodeName: 'node-a',
      labels: { app: 'web', 'app.kubernetes.io/name': 'web' },
      containers: [{ name: 'app', image: 'nginx:1.25', containerId: webId }],
    }),
  );
  const { service } = await startService(fake, overrides);
  t.after(async () => {
    await service.stop();
    await fake.close();
  });
  const webFile = containerFile({ namespace: 'shop', podName: web.metadata!.name!, containerName: 'app', podUid: web.metadata!.uid, containerId: webId });
  return { fake, service, web, webFile };
}

test("container records get their pod's shared metadata; other records are left alone", async (t) => {
  const { service, web, webFile } = await setup(t);
  const transform = new EnrichKubernetes(service);
  const acks = new FileAcks();
  const { records } = acks.batch(webFile, 3, 300);
  const component: FileContext = { ...webFile, meta: metadataFromIdentity({ nodeName: 'node-a', serviceName: 'kubelet' }) };
  records.push(makeRecord(component, records[0].batch, 999, 'kubelet line'));
  const out = transform.process(records);
  assert.ok(Array.isArray(out), 'a known pod never waits');
  assert.equal(out.length, 4);
  assert.equal(out[0].meta, out[1].meta, 'one shared Metadata object per container');
  const d = doc(out[0]);
  assert.equal(d.kubernetes.pod.name, web.metadata!.name);
  assert.equal(d.kubernetes.deployment.name, 'web');
  assert.equal(d.kubernetes.labels['app_kubernetes_io/name'], 'web');
  assert.equal(d.kubernetes.namespace_labels.team, 'payments');
  assert.equal(d.kubernetes.node.name, 'node-a');
  assert.equal(d.container.image.name, 'nginx:1.25');
  assert.equal(out[3].meta, component.meta);
  assert.equal(transform.counters.enriched, 3);
  assert.equal(transform.counters.metadataMissing, 0);

  const registry = new Registry();
  registerFamilies(
    registry,
    kubernetesMetrics(
      () => service.stats(),
      () => transform.counters,
    ),
  );
  const text = await registry.metrics();
  assert.match(text, /logferry_kubernetes_records_enriched_total 3/);
  assert.match(text, /logferry_kubernetes_lists_total\{resource="pods"\} 1/);
  assert.match(text, /logferry_kubernetes_connected 1/);
  assert.match(text, /logferry_kubernetes_pods_cached 1/);
});

test('a short-lived pod whose ADDED event lags its first lines: only its batch waits, and only until the pod appears', async (t) => {
  const { fake, service, webFile } = await setup(t, { waitForPodMs: 2000 });
  const transform = new EnrichKubernetes(service, { waitForPodMs: 2000 });
  const acks = new FileAcks();
  const uid = '4f9a1c2e-0000-4000-8000-00000000abcd';
  const jobFile = containerFile({ namespace: 'shop', podName: 'quick-job-x7k2p', containerName: 'main', podUid: uid });
  const started = Date.now();
  const waiting = transform.process(acks.batch(jobFile, 2, 200).records);
  assert.ok(waiting instanceof Promise, "the unknown pod's batch waits");
  const other = transform.process(acks.batch(webFile, 2, 200).records);
  assert.ok(Array.isArray(other), "other pods' batches do not wait meanwhile");
  await sleep(300);
  fake.addPod(
    makePod({ namespace: 'shop', name: 'quick-job-x7k2p', uid, nodeName: 'node-a', owner: { kind: 'Job', name: 'quick-job' }, containers: [{ name: 'main' }] }),
  );
  const out = await waiting;
  const waited = Date.now() - started;
  assert.ok(waited >= 280 && waited < 1500, `waited ${waited} ms`);
  assert.equal(doc(out[0]).kubernetes.job.name, 'quick-job');
  assert.equal(transform.counters.metadataMissing, 0);
  assert.equal(transform.counters.waitedBatches, 1);
});

test('a pod that never appears: one bounded wait, then file-name metadata, counted; later batches do not wait', async (t) => {
  const { service } = await setup(t);
  const transform = new EnrichKubernetes(service, { waitForPodMs: 400 });
  const acks = new FileAcks();
  const ghost = containerFile({ namespace: 'shop', podName: 'gone-long-ago', containerName: 'c' });
  const started = Date.now();
  const first = transform.process(acks.batch(ghost, 3, 300).records);
  assert.ok(first instanceof Promise);
  const second = transform.process(acks.batch(ghost, 1, 400, 300).records);
  assert.ok(second instanceof Promise, 'a batch arriving during the wait shares it');
  const [a, b] = await Promise.all([first, second]);
  const waited = Date.now() - started;
  assert.ok(waited >= 380 && waited < 1000, `waited ${waited} ms`);
  assert.equal(a[0].meta, ghost.meta);
  assert.equal(b.length, 1);
  const third = transform.process(acks.batch(ghost, 2, 600, 400).records);
  assert.ok(Array.isArray(third), 'given up on this pod: no further waiting');
  assert.equal(transform.counters.metadataMissing, 6);
  assert.equal(service.stats().waitTimeouts, 1);
});

test('API unreachable: cached pods stay enriched, an unknown pod waits no longer than its bound, then ships with file-name metadata, counted', async (t) => {
  const { fake, service, webFile } = await setup(t, { backoff: { minMs: 100, maxMs: 500 } });
  const transform = new EnrichKubernetes(service, { waitForPodMs: 400 });
  const acks = new FileAcks();
  await fake.goDown('refuse');
  await until(() => !service.connected, 5000, 'disconnected');
  const unknown = containerFile({ namespace: 'shop', podName: 'new-pod', containerName: 'c' });
  const records = [...acks.batch(unknown, 2, 200).records, ...acks.batch(webFile, 2, 200).records];
  const started = Date.now();
  const pending = transform.process(records);
  assert.ok(pending instanceof Promise, 'the API may be back any moment: the unknown pod is waited for (bounded)');
  const out = await pending;
  const waited = Date.now() - started;
  assert.ok(waited >= 380 && waited < 1400, `waited ${waited} ms`);
  assert.equal(out[0].meta, unknown.meta);
  assert.equal(doc(out[2]).kubernetes.deployment.name, 'web');
  assert.equal(transform.counters.metadataMissing, 2);
  assert.equal(service.stats().waitTimeouts, 1);
  await fake.comeUp();
});

test("never synced (API down from the start): a pod's first batch waits its bound, then it ships with file-name metadata, counted", async () => {
  const fake = await FakeKubeApiServer.start();
  const url = fake.url;
  await fake.close();
  const { createKubernetesMetadata } = await import('../../src/kubernetes/metadata-service.js');
  const { kubernetesConfigSchema } = await import('../../src/kubernetes/config.js');
  const service = (await createKubernetesMetadata(
    kubernetesConfigSchema.parse({ apiServer: url, nodeName: 'node-a', startTimeoutMs: 200, waitForPodMs: 300, backoff: { minMs: 100, maxMs: 200 } }),
    { env: {} },
  ))!;
  await service.start();
  try {
    assert.equal(service.synced, false);
    const transform = new EnrichKubernetes(service, { waitForPodMs: 300 });
    const file = containerFile({ namespace: 'shop', podName: 'p', containerName: 'c' });
    const acks = new FileAcks();
    const first = transform.process(acks.batch(file, 5, 500).records);
    assert.ok(first instanceof Promise, 'not listed yet is not "nothing is coming"');
    const out = await first;
    assert.equal(out.length, 5);
    assert.equal(transform.counters.metadataMissing, 5);
    assert.equal(service.stats().waitTimeouts, 1);
    // Given up for this outage: later batches of the pod go at once.
    const later = transform.process(acks.batch(file, 2, 200, 500).records);
    assert.ok(Array.isArray(later));
  } finally {
    await service.stop();
  }
});

test('excluded pods and containers: dropped, acknowledged (offsets advance) and counted; options exposed', async (t) => {
  const { fake, service, webFile } = await setup(t);
  fake.addPod(makePod({ namespace: 'shop', name: 'noisy', nodeName: 'node-a', annotations: { 'logferry.io/exclude': 'true' }, containers: [{ name: 'c' }] }));
  fake.addPod(
    makePod({
      namespace: 'shop',
      name: 'mesh',
      nodeName: 'node-a',
      annotations: { 'logferry.io/exclude-containers': 'istio-proxy', 'logferry.io/parser': 'json', 'logferry.io/multiline': 'java' },
      containers: [{ name: 'app' }, { name: 'istio-proxy' }],
    }),
  );
  await until(() => service.lookup('shop', 'mesh', 'app') !== undefined && service.lookup('shop', 'noisy', 'c') !== undefined, 5000, 'pods');
  assert.deepEqual(service.podOptions('shop', 'mesh', 'app'), { exclude: false, parser: 'json', multiline: 'java' });
  assert.equal(service.podOptions('shop', 'mesh', 'istio-proxy')?.exclude, true);
  const transform = new EnrichKubernetes(service);
  const noisy = containerFile({ namespace: 'shop', podName: 'noisy', containerName: 'c' });
  const proxy = containerFile({ namespace: 'shop', podName: 'mesh', containerName: 'istio-proxy' });
  const app = containerFile({ namespace: 'shop', podName: 'mesh', containerName: 'app' });
  const trackers = { noisy: new FileAcks(), proxy: new FileAcks(), app: new FileAcks(), web: new FileAcks() };
  const batches = {
    noisy: trackers.noisy.batch(noisy, 4, 400),
    proxy: trackers.proxy.batch(proxy, 3, 300),
    app: trackers.app.batch(app, 2, 200),
    web: trackers.web.batch(webFile, 1, 100),
  };
  const mixed = [
    batches.app.records[0],
    ...batches.noisy.records.slice(0, 2),
    batches.web.records[0],
    ...batches.proxy.records,
    ...batches.noisy.records.slice(2),
    batches.app.records[1],
  ];
  const out = transform.process(mixed) as LogRecord[];
  assert.deepEqual(
    out.map((r) => `${r.meta.fields.podName}/${r.meta.fields.containerName}@${r.offset}`),
    ['mesh/app@0', `${webFile.meta.fields.podName}/app@0`, 'mesh/app@100'],
  );
  assert.equal(transform.counters.excluded, 7);
  assert.equal(trackers.noisy.committed, 400, 'excluded lines are checkpointed');
  assert.equal(trackers.proxy.committed, 300);
  assert.equal(trackers.app.committed, undefined, 'shipped records wait for the sink');
  assert.equal(batches.app.batch.pending, 2);
});

test("a deleted pod's lines read afterwards keep its metadata: grace period, and as long as its files are retained", async (t) => {
  const { fake, service, web, webFile } = await setup(t, { deletedPodGraceMs: 300 });
  const transform = new EnrichKubernetes(service, { waitForPodMs: 200 });
  const name = web.metadata!.name!;
  service.retain('shop', name);
  fake.deletePod('shop', name);
  await until(() => service.stats().deletedPodsRetained === 1, 5000, 'deleted');
  await sleep(700);
  const acks = new OrderedAcks<number>(() => undefined);
  const late = (n: number) => Array.from({ length: n }, (_, i) => makeRecord(webFile, acks.newBatch(i, 1), i, 'last words'));
  const out = transform.process(late(2)) as LogRecord[];
  assert.equal(doc(out[0]).kubernetes.deployment.name, 'web', 'retained past the grace period while its file is open');
  service.release('shop', name);
  await until(() => service.stats().podsExpired === 1, 5000, 'expired after release + grace');
  const after = await transform.process(late(1));
  assert.equal(after[0].meta, webFile.meta);
  assert.equal(transform.counters.metadataMissing, 1);
});

test('records of a pod recreated under the same name go to the right pod by uid', async (t) => {
  const { fake, service } = await setup(t);
  const oldId = randomContainerId();
  const old = fake.addPod(
    makePod({
      namespace: 'shop',
      name: 'db-0',
      nodeName: 'node-a',
      labels: { rev: '1' },
      owner: { kind: 'StatefulSet', name: 'db' },
      containers: [{ name: 'pg', containerId: oldId }],
    }),
  );
  fake.deletePod('shop', 'db-0');
  const fresh = fake.addPod(
    makePod({
      namespace: 'shop',
      name: 'db-0',
      nodeName: 'node-a',
      labels: { rev: '2' },
      owner: { kind: 'StatefulSet', name: 'db' },
      containers: [{ name: 'pg' }],
    }),
  );
  await until(() => service.lookup('shop', 'db-0', 'pg', fresh.metadata!.uid) !== undefined, 5000, 'new pod');
  const transform = new EnrichKubernetes(service);
  const oldFile = containerFile({ namespace: 'shop', podName: 'db-0', containerName: 'pg', podUid: old.metadata!.uid, containerId: oldId });
  const newFile = containerFile({ namespace: 'shop', podName: 'db-0', containerName: 'pg', podUid: fresh.metadata!.uid });
  const acks = new FileAcks();
  const out = transform.process([...acks.batch(oldFile, 1, 100).records, ...acks.batch(newFile, 1, 100).records]) as LogRecord[];
  assert.deepEqual(
    out.map((r) => doc(r).kubernetes.labels.rev),
    ['1', '2'],
  );
  assert.equal(doc(out[0]).container.id, oldId);
  assert.equal(doc(out[0]).kubernetes.statefulset.name, 'db');
});
