/**
 * Issue 4 end to end: real files, the real agent process, a fake API server speaking the real protocol,
 * and the real Elasticsearch. Records carry labels, owner and node; `app` next to `app.kubernetes.io/name`
 * causes no mapping error; a pod deleted before its file is read keeps its metadata; excluded pods never
 * reach Elasticsearch.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sharedElasticsearch } from '../helpers/elasticsearch.js';
import { sleep, startAgentProcess } from '../helpers/agent-process.js';
import { docsForNode } from '../helpers/es-docs.js';
import { addPodContainers, startFakeCluster } from '../helpers/fake-kube-cluster.js';
import { addContainer, append, formatMessage } from '../helpers/log-tree.js';

describe('Kubernetes metadata end to end', () => {
  it('enriches records from the API, keeps deleted pods, excludes annotated pods, no mapping conflicts', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const root = mkdtempSync(join(tmpdir(), 'lf-k8s-e2e-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const nodeName = `node-k8s-${process.pid}`;
    const web = addPodContainers(root, 'shop', 'web-7d4b9c8f6d-x2x9z', ['app']);
    const api = addContainer(root, 'shop', 'api-0', 'api');
    const gone = addContainer(root, 'batch', 'report-28890000-abcde', 'report');
    const noisy = addContainer(root, 'shop', 'noisy-1', 'noisy');
    const cluster = await startFakeCluster({
      nodeName,
      containers: [...web, api, gone, noisy],
      pods: {
        'shop/web-7d4b9c8f6d-x2x9z': {
          labels: { 'app.kubernetes.io/name': 'web', 'pod-template-hash': '7d4b9c8f6d' },
          owner: { kind: 'ReplicaSet', name: 'web-7d4b9c8f6d' },
          podIP: '10.244.1.7',
          images: { app: 'registry.example.com/web:1.2' },
        },
        'shop/api-0': { labels: { app: 'api' }, owner: { kind: 'StatefulSet', name: 'api' } },
        'batch/report-28890000-abcde': { labels: { app: 'report' }, owner: { kind: 'Job', name: 'report-28890000' } },
        'shop/noisy-1': { annotations: { 'logferry.io/exclude': 'true' } },
      },
      namespaces: { shop: { team: 'storefront' } },
    });
    t.after(() => cluster.close());
    const config = join(root, 'logferry.yaml');
    writeFileSync(config, `inputs:\n  components:\n    enabled: false\n${cluster.yaml}`);
    const agent = startAgentProcess({
      args: ['run', '--root', root, '--data-dir', join(root, 'data'), '--config', config],
      env: { ELASTICSEARCH_HOSTS: url, NODE_NAME: nodeName },
    });
    t.after(async () => {
      agent.child.kill('SIGKILL');
      await agent.exited;
    });
    await sleep(2000);
    const now = Date.now();
    for (const c of [...web, api, noisy]) append(c, formatMessage(c, `hello from ${c.pod}`, 'stdout', now));
    // The job's pod is deleted (the agent saw it while it ran), then its last line is read.
    cluster.api.deletePod('batch', 'report-28890000-abcde');
    await sleep(500);
    append(gone, formatMessage(gone, 'report done', 'stdout', now));
    let docs = await docsForNode(url, nodeName);
    for (let i = 0; i < 30 && docs.length < 3; i++) {
      await sleep(500);
      docs = await docsForNode(url, nodeName);
    }
    await sleep(1000);
    agent.child.kill('SIGTERM');
    const exit = await agent.exited;
    assert.equal(exit.code, 0, agent.stderr());
    assert.doesNotMatch(agent.stderr(), /dead-lettered/);
    docs = await docsForNode(url, nodeName);
    const byPod = new Map(docs.map((d) => [d._source.kubernetes.pod.name, d._source]));
    assert.equal(docs.length, 3, 'the excluded pod shipped nothing');
    assert.ok(!byPod.has('noisy-1'));
    const webDoc = byPod.get('web-7d4b9c8f6d-x2x9z')!;
    assert.equal(webDoc.kubernetes.labels['app_kubernetes_io/name'], 'web');
    assert.equal(webDoc.kubernetes.deployment.name, 'web');
    assert.equal(webDoc.kubernetes.pod.ip, '10.244.1.7');
    assert.equal(webDoc.kubernetes.node.name, nodeName);
    assert.equal(webDoc.kubernetes.namespace_labels.team, 'storefront');
    assert.equal(webDoc.container.image.name, 'registry.example.com/web:1.2');
    const apiDoc = byPod.get('api-0')!;
    assert.equal(apiDoc.kubernetes.labels.app, 'api', 'a plain `app` label next to a dotted one maps fine');
    assert.equal(apiDoc.kubernetes.statefulset.name, 'api');
    const jobDoc = byPod.get('report-28890000-abcde')!;
    assert.equal(jobDoc.kubernetes.job.name, 'report-28890000');
    assert.equal(jobDoc.kubernetes.labels.app, 'report', 'a deleted pod keeps its metadata while its file is read');
    const lists = cluster.api.requests.filter((r) => r.resource === 'pods' && r.verb === 'list');
    assert.equal(lists.length, 1, 'one list, then a watch');
    assert.equal(lists[0].query.fieldSelector, `spec.nodeName=${nodeName}`);
    assert.equal(lists[0].query.resourceVersion, '0');
  });
});
