/**
 * The fake cluster helper against a real log tree and the real container input: the metadata the
 * input derives from file names (namespace, pod, pod uid, container, container id) meets the pods the
 * helper serves, so the enrichment finds every container. This is the set-up the end-to-end test with
 * the agent and Elasticsearch uses (`cluster.yaml` as the config's kubernetes section).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { addContainer } from '../helpers/log-tree.js';
import { addPodContainers, startFakeCluster } from '../helpers/fake-kube-cluster.js';
import { containerFile } from '../helpers/kube-records.js';
import { FileAcks } from '../helpers/kube-records.js';
import { containerLogsInput } from '../../src/sources/kubernetes-logs/input.js';
import { kubernetesConfigSchema } from '../../src/kubernetes/config.js';
import { createKubernetesEnrichment } from '../../src/kubernetes/enrichment.js';
import type { FileContext } from '../../src/event/record.js';
import { DocumentEncoder } from '../../src/event/document.js';
import { deleteIndices, esRequest, sharedElasticsearch } from '../helpers/elasticsearch.js';

let enrichedDocs: string[] = [];

test('fake cluster for a log tree: every container file is enriched; labels app and app.kubernetes.io/name coexist', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'logferry-kube-tree-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const web = addPodContainers(root, 'shop', 'web-7d4b9c8f6d-x2x9z', ['app', 'istio-proxy']);
  const db = addContainer(root, 'shop', 'db-0', 'postgres');
  const noisy = addContainer(root, 'load', 'load-gen-5f6b7c8d9e-abcde', 'gen');
  const cluster = await startFakeCluster({
    nodeName: 'node-e2e',
    containers: [...web, db, noisy],
    namespaces: { shop: { team: 'payments' } },
    pods: {
      'shop/web-7d4b9c8f6d-x2x9z': {
        labels: { app: 'web', 'pod-template-hash': '7d4b9c8f6d' },
        owner: { kind: 'ReplicaSet', name: 'web-7d4b9c8f6d' },
        images: { app: 'nginx:1.25' },
      },
      'shop/db-0': { labels: { 'app.kubernetes.io/name': 'postgres' }, owner: { kind: 'StatefulSet', name: 'db' } },
      'load/load-gen-5f6b7c8d9e-abcde': { annotations: { 'logferry.io/exclude': 'true' } },
    },
  });
  t.after(() => cluster.close());

  const section = parse(cluster.yaml).kubernetes;
  assert.deepEqual(section, cluster.config);
  const enrichment = (await createKubernetesEnrichment(kubernetesConfigSchema.parse(section), { env: {} }))!;
  t.after(() => enrichment.stop());
  assert.equal(enrichment.service.synced, true);

  const input = containerLogsInput({ root, nodeName: 'node-e2e', patterns: ['/var/log/containers/*.log'], readFrom: 'beginning', parser: {} });
  const fileOf = (link: string): FileContext => {
    const description = input.describe(link, realpathSync(link))!;
    return { ...containerFile({ namespace: '', podName: '', containerName: '' }), path: link, pathJson: JSON.stringify(link), meta: description.meta };
  };
  const acks = new FileAcks();
  const all = [...web, db, noisy];
  const records = all.flatMap((c) => acks.batch(fileOf(c.linkPath), 2, 200).records);
  const out = await enrichment.transform.process(records);
  assert.equal(out.length, 6, "the excluded pod's 2 records are dropped");
  assert.equal(enrichment.transform.counters.excluded, 2);
  assert.equal(enrichment.transform.counters.metadataMissing, 0);
  const byContainer = new Map(out.map((r) => [r.meta.fields.containerName, JSON.parse('{' + r.meta.json + '}')]));
  const app = byContainer.get('app');
  assert.equal(app.kubernetes.deployment.name, 'web');
  assert.equal(app.kubernetes.labels.app, 'web');
  assert.equal(app.kubernetes.namespace_labels.team, 'payments');
  assert.equal(app.kubernetes.node.name, 'node-e2e');
  assert.equal(app.kubernetes.pod.uid, web[0].uid);
  assert.equal(app.container.id, web[0].containerId);
  assert.equal(app.container.image.name, 'nginx:1.25');
  assert.equal(byContainer.get('istio-proxy').container.id, web[1].containerId);
  const postgres = byContainer.get('postgres');
  assert.equal(postgres.kubernetes.statefulset.name, 'db');
  assert.equal(postgres.kubernetes.labels['app_kubernetes_io/name'], 'postgres');
  assert.equal(postgres.kubernetes.labels.app, undefined);
  const encoder = new DocumentEncoder();
  enrichedDocs = out.map((r) => encoder.encode(r));
  assert.deepEqual(
    cluster.api.requests
      .filter((r) => r.verb !== 'watch')
      .map((r) => `${r.verb} ${r.resource}`)
      .sort(),
    ['list namespaces', 'list pods'],
  );
});

test('Elasticsearch: dedotted label keys index side by side (`app` and `app.kubernetes.io/name`); dotted ones would conflict', async (t) => {
  const url = sharedElasticsearch(t);
  if (!url) return;
  assert.ok(enrichedDocs.length > 0, 'runs after the test above');
  const index = `logferry-kube-labels-${process.pid}`;
  t.after(() => deleteIndices(url, `${index}*`));
  const bulk = (name: string, docs: string[]) => esRequest(url, 'POST', `/${name}/_bulk?refresh=true`, docs.map((d) => '{"index":{}}\n' + d + '\n').join(''));
  const result = await bulk(index, enrichedDocs);
  assert.equal(result.errors, false, JSON.stringify(result.items?.find((i: any) => i.index?.error)));
  const mapping = await esRequest(url, 'GET', `/${index}/_mapping`);
  const labels = mapping[index].mappings.properties.kubernetes.properties.labels.properties;
  assert.ok(labels.app && labels['app_kubernetes_io/name'], Object.keys(labels).join(','));
  // The same two labels undotted: the second document cannot be mapped (what dedotting prevents).
  const dotted = await bulk(`${index}-dotted`, ['{"kubernetes":{"labels":{"app":"web"}}}', '{"kubernetes":{"labels":{"app.kubernetes.io/name":"postgres"}}}']);
  assert.equal(dotted.errors, true);
  assert.match(JSON.stringify(dotted.items[1].index.error), /mapper_parsing_exception|object mapping|tried to parse field \[app\] as object/);
});
