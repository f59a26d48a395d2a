import { test } from 'node:test';
import assert from 'node:assert/strict';
import { annotationMatcher, containerMetadata, containerOptions, podFacts, resolveOwner, splitContainerId } from './pod-metadata.js';
import { cronJobPod, deploymentPod, makePod } from '../../test/helpers/fake-kube-objects.js';
import type { KubePod } from './objects.js';

const node = 'node-a';
const none = annotationMatcher([]);

test('owner: deployment via ReplicaSet only when the name ends with the pod-template-hash', () => {
  const pod = deploymentPod({ namespace: 'shop', deployment: 'web', hash: '7d4b9c8f6d', nodeName: node, containers: [{ name: 'app' }] }) as KubePod;
  assert.deepEqual(resolveOwner(pod), { replicaset: 'web-7d4b9c8f6d', deployment: 'web' });
  const handMade = makePod({
    namespace: 'shop',
    name: 'api-v2-x',
    nodeName: node,
    labels: { 'pod-template-hash': 'abc' },
    owner: { kind: 'ReplicaSet', name: 'api-v2' },
    containers: [{ name: 'app' }],
  }) as KubePod;
  assert.deepEqual(resolveOwner(handMade), { replicaset: 'api-v2' });
  const noHash = makePod({
    namespace: 'shop',
    name: 'rs-x',
    nodeName: node,
    owner: { kind: 'ReplicaSet', name: 'web-7d4b9c8f6d' },
    containers: [{ name: 'app' }],
  }) as KubePod;
  assert.deepEqual(resolveOwner(noHash), { replicaset: 'web-7d4b9c8f6d' });
});

test('owner: statefulset, daemonset, job, cronjob (8+ digit schedule suffix), none', () => {
  const of = (kind: string, name: string) =>
    resolveOwner(makePod({ namespace: 'n', name: 'p', nodeName: node, owner: { kind, name }, containers: [{ name: 'c' }] }));
  assert.deepEqual(of('StatefulSet', 'db'), { statefulset: 'db' });
  assert.deepEqual(of('DaemonSet', 'fluent'), { daemonset: 'fluent' });
  assert.deepEqual(of('Job', 'migrate-2'), { job: 'migrate-2' });
  assert.deepEqual(of('Node', 'node-a'), {});
  const cron = cronJobPod({
    namespace: 'n',
    cronjob: 'nightly-report',
    scheduledMs: Date.UTC(2026, 10, 24),
    nodeName: node,
    containers: [{ name: 'c' }],
  }) as KubePod;
  const job = cron.metadata!.ownerReferences![0].name!;
  assert.match(job, /^nightly-report-\d{8}$/);
  assert.deepEqual(resolveOwner(cron), { job, cronjob: 'nightly-report' });
  assert.deepEqual(resolveOwner(makePod({ namespace: 'n', name: 'bare', nodeName: node, containers: [{ name: 'c' }] }) as KubePod), {});
});

test('owner: the controller reference wins over other owners', () => {
  const pod = makePod({ namespace: 'n', name: 'p', nodeName: node, containers: [{ name: 'c' }] }) as KubePod;
  pod.metadata!.ownerReferences = [
    { apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', uid: 'u1' },
    { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u2', controller: true },
  ];
  assert.deepEqual(resolveOwner(pod), { statefulset: 'db' });
});

test('container ids lose their runtime prefix', () => {
  assert.deepEqual(splitContainerId('containerd://abc123'), { id: 'abc123', runtime: 'containerd' });
  assert.deepEqual(splitContainerId('docker://ff'), { id: 'ff', runtime: 'docker' });
  assert.deepEqual(splitContainerId(undefined), {});
});

test('metadata: dedotted labels and allow-listed annotations, image, container id, node, owner', () => {
  const pod = deploymentPod({
    namespace: 'shop',
    deployment: 'web',
    nodeName: node,
    podIP: '10.1.2.3',
    labels: { app: 'web', 'app.kubernetes.io/name': 'shop-web' },
    annotations: { 'example.com/team': 'payments', 'example.com/tier': 'gold', 'prometheus.io/scrape': 'true', unrelated: 'x' },
    containers: [
      { name: 'app', image: 'nginx:1.25', containerId: 'a'.repeat(64) },
      { name: 'sidecar', image: 'envoy:1.30' },
    ],
  }) as KubePod;
  const facts = podFacts(pod, annotationMatcher(['example.com/*', 'prometheus.io/scrape']))!;
  const meta = containerMetadata(facts, 'app', { 'kubernetes_io/metadata_name': 'shop', team: 'payments' }, 'ignored-when-pod-has-node');
  const doc = JSON.parse('{' + meta.json + '}');
  assert.deepEqual(doc.kubernetes.labels, { app: 'web', 'app_kubernetes_io/name': 'shop-web', 'pod-template-hash': '7d4b9c8f6d' });
  assert.deepEqual(doc.kubernetes.annotations, { 'example_com/team': 'payments', 'example_com/tier': 'gold', 'prometheus_io/scrape': 'true' });
  assert.deepEqual(doc.kubernetes.namespace_labels, { 'kubernetes_io/metadata_name': 'shop', team: 'payments' });
  assert.equal(doc.kubernetes.namespace, 'shop');
  assert.equal(doc.kubernetes.pod.name, pod.metadata!.name);
  assert.equal(doc.kubernetes.pod.uid, pod.metadata!.uid);
  assert.equal(doc.kubernetes.pod.ip, '10.1.2.3');
  assert.equal(doc.kubernetes.deployment.name, 'web');
  assert.equal(doc.kubernetes.replicaset.name, 'web-7d4b9c8f6d');
  assert.equal(doc.kubernetes.container.name, 'app');
  assert.equal(doc.kubernetes.node.name, node);
  assert.deepEqual(doc.container, { id: 'a'.repeat(64), runtime: 'containerd', image: { name: 'nginx:1.25' } });
  assert.deepEqual(doc.host, { name: node });
  assert.equal(meta.fields.containerId, 'a'.repeat(64));
  assert.equal(meta.fields.podUid, pod.metadata!.uid);
  assert.deepEqual(meta.fields.document, doc);
  const sidecar = JSON.parse('{' + containerMetadata(facts, 'sidecar', undefined, node).json + '}');
  assert.equal(sidecar.container.image.name, 'envoy:1.30');
  assert.equal(sidecar.kubernetes.namespace_labels, undefined);
  const noAnnotations = podFacts(pod, none)!;
  assert.equal(noAnnotations.annotations, undefined);
});

test('metadata: an explicit container id (file of an earlier instance) overrides the API one', () => {
  const pod = makePod({ namespace: 'n', name: 'p', nodeName: node, containers: [{ name: 'c', containerId: 'b'.repeat(64) }] }) as KubePod;
  const facts = podFacts(pod, none)!;
  const meta = containerMetadata(facts, 'c', undefined, node, 'c'.repeat(64));
  assert.equal(JSON.parse('{' + meta.json + '}').container.id, 'c'.repeat(64));
});

test('metadata: a pending pod (no ip, no container ids yet) still has pod and image fields', () => {
  const pod = makePod({ namespace: 'n', name: 'p', nodeName: node, phase: 'Pending', containers: [{ name: 'c', image: 'busybox' }] }) as KubePod;
  const doc = JSON.parse('{' + containerMetadata(podFacts(pod, none)!, 'c', undefined, node).json + '}');
  assert.equal(doc.kubernetes.pod.ip, undefined);
  assert.deepEqual(doc.container, { image: { name: 'busybox' } });
});

test('annotations: exclude, exclude-containers, parser, multiline; malformed values reported', () => {
  const base = { namespace: 'n', name: 'p', nodeName: node, containers: [{ name: 'a' }, { name: 'b' }] };
  const excluded = podFacts(makePod({ ...base, annotations: { 'logferry.io/exclude': 'True' } }), none)!;
  assert.equal(containerOptions(excluded, 'a').exclude, true);
  const some = podFacts(
    makePod({ ...base, annotations: { 'logferry.io/exclude-containers': ' b , c', 'logferry.io/parser': 'logfmt', 'logferry.io/multiline': 'java' } }),
    none,
  )!;
  assert.deepEqual(containerOptions(some, 'a'), { exclude: false, parser: 'logfmt', multiline: 'java' });
  assert.deepEqual(containerOptions(some, 'b'), { exclude: true, parser: 'logfmt', multiline: 'java' });
  const regex = podFacts(makePod({ ...base, annotations: { 'logferry.io/multiline': '^\\d{4}-' } }), none)!;
  assert.equal(containerOptions(regex, 'a').multiline, '^\\d{4}-');
  const bad = podFacts(makePod({ ...base, annotations: { 'logferry.io/exclude': 'yes', 'logferry.io/parser': 'xml', 'logferry.io/multiline': '([' } }), none)!;
  assert.deepEqual(containerOptions(bad, 'a'), { exclude: false });
  assert.equal(bad.invalid?.length, 3);
  assert.match(bad.invalid.join('\n'), /logferry\.io\/parser: expected json, logfmt or none, got "xml"/);
});

test('static pods are also found by the uid the kubelet uses on disk', () => {
  const pod = makePod({
    namespace: 'kube-system',
    name: 'kube-apiserver-node-a',
    nodeName: node,
    annotations: { 'kubernetes.io/config.mirror': 'f00d' },
    owner: { kind: 'Node', name: node },
    containers: [{ name: 'kube-apiserver' }],
  }) as KubePod;
  assert.equal(podFacts(pod, none)!.mirrorUid, 'f00d');
});

test('objects without a name or namespace are ignored', () => {
  assert.equal(podFacts({ metadata: { name: 'x' } }, none), undefined);
  assert.equal(podFacts({}, none), undefined);
});
