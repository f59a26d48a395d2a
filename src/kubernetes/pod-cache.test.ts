import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PodMetadataCache } from './pod-cache.js';
import type { KubePod } from './objects.js';
import { deploymentPod, makeNamespace, makePod } from '../../test/helpers/fake-kube-objects.js';

function setup(grace = 1000) {
  let now = 1_000_000;
  const known: string[] = [];
  const cache = new PodMetadataCache({
    nodeName: 'node-a',
    annotations: ['team'],
    deletedPodGraceMs: grace,
    now: () => now,
    onPodKnown: (ns, name) => known.push(`${ns}/${name}`),
  });
  return { cache, known, advance: (ms: number) => (now += ms), now: () => now };
}

const doc = (json: string) => JSON.parse('{' + json + '}');

test('cache follows add, modify, delete; unchanged metadata keeps its identity', () => {
  const { cache, known } = setup();
  const pod = deploymentPod({ namespace: 'shop', deployment: 'web', nodeName: 'node-a', labels: { app: 'web' }, containers: [{ name: 'app' }] }) as KubePod;
  const name = pod.metadata!.name!;
  assert.equal(cache.resolve('shop', name, 'app'), undefined);
  cache.podHandler.apply('ADDED', pod);
  assert.deepEqual(known, [`shop/${name}`]);
  const first = cache.resolve('shop', name, 'app')!;
  assert.equal(doc(first.meta.json).kubernetes.labels.app, 'web');

  // A status-only change (readiness) shows nothing new: same object, nothing rebuilt.
  const built = cache.stats().metadataBuilt;
  const ready = structuredClone(pod);
  ready.metadata!.resourceVersion = '2';
  cache.podHandler.apply('MODIFIED', ready);
  assert.equal(cache.resolve('shop', name, 'app'), first);
  assert.equal(cache.stats().metadataBuilt, built);

  const relabelled = structuredClone(pod);
  relabelled.metadata!.labels = { ...relabelled.metadata!.labels, app: 'web2' };
  cache.podHandler.apply('MODIFIED', relabelled);
  const second = cache.resolve('shop', name, 'app')!;
  assert.notEqual(second, first);
  assert.equal(doc(second.meta.json).kubernetes.labels.app, 'web2');

  cache.podHandler.apply('DELETED', relabelled);
  assert.ok(cache.resolve('shop', name, 'app'), 'kept during the grace period');
  assert.equal(cache.stats().deletedPodsRetained, 1);
});

test('deleted pods expire after the grace period, counted from deletion and from the last lookup, unless retained', () => {
  const { cache, advance } = setup(1000);
  const pod = makePod({ namespace: 'n', name: 'p', nodeName: 'node-a', containers: [{ name: 'c' }] }) as KubePod;
  cache.podHandler.apply('ADDED', pod);
  cache.podHandler.apply('DELETED', pod);
  advance(900);
  assert.ok(cache.resolve('n', 'p', 'c'), 'a lookup of a deleted pod extends its grace');
  advance(900);
  assert.equal(cache.sweep(), 0);
  cache.retain('n', 'p');
  advance(5000);
  assert.equal(cache.sweep(), 0, 'retained: files still open');
  assert.ok(cache.resolve('n', 'p', 'c'));
  cache.release('n', 'p');
  advance(999);
  assert.equal(cache.sweep(), 0);
  advance(1);
  assert.equal(cache.sweep(), 1);
  assert.equal(cache.resolve('n', 'p', 'c'), undefined);
  assert.equal(cache.stats().podsCached, 0);
});

test('a relist marks pods missing from it as deleted (grace applies) and adds new ones', () => {
  const { cache, advance } = setup(1000);
  const a = makePod({ namespace: 'n', name: 'a', nodeName: 'node-a', containers: [{ name: 'c' }] }) as KubePod;
  const b = makePod({ namespace: 'n', name: 'b', nodeName: 'node-a', containers: [{ name: 'c' }] }) as KubePod;
  cache.podHandler.replace([a]);
  cache.podHandler.replace([b]);
  assert.ok(cache.resolve('n', 'a', 'c'));
  assert.ok(cache.resolve('n', 'b', 'c'));
  advance(1000);
  cache.sweep();
  assert.equal(cache.resolve('n', 'a', 'c'), undefined);
  assert.ok(cache.resolve('n', 'b', 'c'));
});

test('namespace labels: added to every container of the namespace, rebuilt when they change', () => {
  const { cache } = setup();
  const pod = makePod({ namespace: 'shop', name: 'p', nodeName: 'node-a', containers: [{ name: 'c' }] }) as KubePod;
  cache.podHandler.apply('ADDED', pod);
  assert.equal(doc(cache.resolve('shop', 'p', 'c')!.meta.json).kubernetes.namespace_labels, undefined);
  cache.namespaceHandler.replace([makeNamespace('shop', { 'team.example.com/owner': 'payments' }), makeNamespace('other')]);
  assert.deepEqual(doc(cache.resolve('shop', 'p', 'c')!.meta.json).kubernetes.namespace_labels, {
    'kubernetes_io/metadata_name': 'shop',
    'team_example_com/owner': 'payments',
  });
  const before = cache.resolve('shop', 'p', 'c');
  cache.namespaceHandler.apply('MODIFIED', makeNamespace('other', { x: 'y' }));
  assert.equal(cache.resolve('shop', 'p', 'c'), before, 'another namespace changing rebuilds nothing here');
  cache.namespaceHandler.apply('MODIFIED', makeNamespace('shop', { env: 'prod' }));
  assert.equal(doc(cache.resolve('shop', 'p', 'c')!.meta.json).kubernetes.namespace_labels.env, 'prod');
  assert.equal(cache.stats().namespacesCached, 2);
});

test('a recreated pod with the same name: files carrying the old uid keep the old pod', () => {
  const { cache } = setup();
  const old = makePod({
    namespace: 'db',
    name: 'pg-0',
    nodeName: 'node-a',
    labels: { generation: 'old' },
    owner: { kind: 'StatefulSet', name: 'pg' },
    containers: [{ name: 'pg' }],
  }) as KubePod;
  const fresh = makePod({
    namespace: 'db',
    name: 'pg-0',
    nodeName: 'node-a',
    labels: { generation: 'new' },
    owner: { kind: 'StatefulSet', name: 'pg' },
    containers: [{ name: 'pg' }],
  }) as KubePod;
  cache.podHandler.apply('ADDED', old);
  cache.podHandler.apply('DELETED', old);
  cache.podHandler.apply('ADDED', fresh);
  const gen = (uid?: string) => doc(cache.resolve('db', 'pg-0', 'pg', uid)!.meta.json).kubernetes.labels.generation;
  assert.equal(gen(), 'new');
  assert.equal(gen(fresh.metadata!.uid), 'new');
  assert.equal(gen(old.metadata!.uid), 'old');
  assert.equal(cache.resolve('db', 'pg-0', 'pg', 'no-such-uid'), undefined);
});

test('a file of an earlier container instance gets its own container id; variants are cached', () => {
  const { cache } = setup();
  const pod = makePod({ namespace: 'n', name: 'p', nodeName: 'node-a', containers: [{ name: 'c', containerId: 'a'.repeat(64) }] }) as KubePod;
  cache.podHandler.apply('ADDED', pod);
  const entry = cache.resolve('n', 'p', 'c')!;
  assert.equal(cache.metadata(entry, 'a'.repeat(64), 'n', 'p', 'c'), entry.meta);
  const old = cache.metadata(entry, 'b'.repeat(64), 'n', 'p', 'c');
  assert.equal(doc(old.json).container.id, 'b'.repeat(64));
  assert.equal(cache.metadata(entry, 'b'.repeat(64), 'n', 'p', 'c'), old);

  // Container started, status not yet reported: the file's id is kept rather than lost.
  const pending = makePod({ namespace: 'n', name: 'starting', nodeName: 'node-a', phase: 'Pending', containers: [{ name: 'c', image: 'busybox' }] }) as KubePod;
  cache.podHandler.apply('ADDED', pending);
  const early = cache.resolve('n', 'starting', 'c')!;
  assert.equal(early.containerId, undefined);
  const withId = doc(cache.metadata(early, 'd'.repeat(64), 'n', 'starting', 'c').json);
  assert.deepEqual(withId.container, { id: 'd'.repeat(64), image: { name: 'busybox' } });
});

test('a container the spec does not list still gets pod-level metadata; static pods resolve by their mirror uid', () => {
  const { cache } = setup();
  const pod = makePod({
    namespace: 'kube-system',
    name: 'etcd-node-a',
    nodeName: 'node-a',
    annotations: { 'kubernetes.io/config.mirror': 'disk-uid', team: 'infra' },
    containers: [{ name: 'etcd' }],
  }) as KubePod;
  cache.podHandler.apply('ADDED', pod);
  const unlisted = doc(cache.resolve('kube-system', 'etcd-node-a', 'debugger')!.meta.json);
  assert.equal(unlisted.kubernetes.container.name, 'debugger');
  assert.equal(unlisted.kubernetes.pod.uid, pod.metadata!.uid);
  assert.deepEqual(unlisted.kubernetes.annotations, { team: 'infra' });
  assert.ok(cache.resolve('kube-system', 'etcd-node-a', 'etcd', 'disk-uid'));
});
