/**
 * The metadata service against the fake API server: it follows the cluster, resumes cut watches without
 * listing, lists exactly once after 410, survives outages without a request storm, and picks up rotated
 * tokens.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeKubeApiServer } from '../helpers/fake-kube-apiserver.js';
import { deploymentPod, makeNamespace, makePod } from '../helpers/fake-kube-objects.js';
import { sleep, startService, until } from '../helpers/kube-service.js';
import { maxAttemptsWithin } from '../../src/core/backoff.js';

const doc = (json: string | undefined) => JSON.parse('{' + json + '}');

async function cluster() {
  const fake = await FakeKubeApiServer.start();
  fake.addNamespace(makeNamespace('shop', { team: 'payments' }));
  fake.addPod(makePod({ namespace: 'shop', name: 'api', nodeName: 'node-a', labels: { app: 'api' }, containers: [{ name: 'app' }] }));
  fake.addPod(makePod({ namespace: 'shop', name: 'other-node', nodeName: 'node-b', containers: [{ name: 'app' }] }));
  return fake;
}

/** Every list the agent made asked the watch cache (resourceVersion=0), pods only for this node. */
function assertListsWellFormed(fake: FakeKubeApiServer): void {
  for (const list of fake.requestsFor('list')) {
    assert.equal(list.query.resourceVersion, '0', `list ${list.path} without resourceVersion=0`);
    if (list.resource === 'pods') assert.equal(list.query.fieldSelector, 'spec.nodeName=node-a');
  }
  for (const watch of fake.requestsFor('watch')) {
    assert.equal(watch.query.allowWatchBookmarks, 'true');
    assert.ok(Number(watch.query.timeoutSeconds) > 0);
    if (watch.resource === 'pods') assert.equal(watch.query.fieldSelector, 'spec.nodeName=node-a');
  }
  assert.equal(fake.requests.filter((r) => r.verb === 'other').length, 0, 'no other requests, ever');
}

test("the cache follows adds, changes and deletes of this node's pods and namespace labels", async (t) => {
  const fake = await cluster();
  const { service } = await startService(fake, { deletedPodGraceMs: 300 });
  t.after(async () => {
    await service.stop();
    await fake.close();
  });
  assert.equal(service.synced, true);
  assert.equal(service.connected, true);
  assert.equal(doc(service.lookup('shop', 'api', 'app')?.json).kubernetes.namespace_labels.team, 'payments');
  assert.equal(service.lookup('shop', 'other-node', 'app'), undefined, 'pods of other nodes are never seen');

  const web = fake.addPod(
    deploymentPod({
      namespace: 'shop',
      deployment: 'web',
      nodeName: 'node-a',
      labels: { 'app.kubernetes.io/name': 'web' },
      containers: [{ name: 'app', image: 'nginx:1.25' }],
    }),
  );
  const webName = web.metadata!.name!;
  await until(() => service.lookup('shop', webName, 'app') !== undefined, 5000, 'ADDED pod');
  const webDoc = doc(service.lookup('shop', webName, 'app')!.json);
  assert.equal(webDoc.kubernetes.deployment.name, 'web');
  assert.equal(webDoc.kubernetes.labels['app_kubernetes_io/name'], 'web');
  assert.equal(webDoc.container.image.name, 'nginx:1.25');
  assert.equal(webDoc.container.id, web.status!.containerStatuses![0].containerID!.replace('containerd://', ''));

  fake.updatePod('shop', 'api', (p) => (p.metadata!.labels!.app = 'api-v2'));
  await until(() => doc(service.lookup('shop', 'api', 'app')?.json).kubernetes.labels.app === 'api-v2', 5000, 'MODIFIED labels');
  fake.updateNamespace('shop', (ns) => (ns.metadata!.labels!.team = 'checkout'));
  await until(() => doc(service.lookup('shop', 'api', 'app')?.json).kubernetes.namespace_labels.team === 'checkout', 5000, 'namespace labels');

  fake.deletePod('shop', 'api');
  await until(() => service.stats().deletedPodsRetained === 1, 5000, 'DELETED');
  assert.ok(service.lookup('shop', 'api', 'app'), 'kept for the grace period');
  // (polling lookup() here would extend the grace: a lookup means records of the pod are still coming)
  await until(() => service.stats().deletedPodsRetained === 0, 5000, 'expiry after grace');
  assert.equal(service.lookup('shop', 'api', 'app'), undefined);

  const stats = service.stats();
  assert.equal(stats.pods.lists, 1);
  assert.equal(stats.namespaces.lists, 1);
  assert.equal(fake.count('list'), 2);
  assertListsWellFormed(fake);
});

test('stream cut: the watch resumes from the last resourceVersion, no list, nothing missed', async (t) => {
  const fake = await cluster();
  const { service } = await startService(fake);
  t.after(async () => {
    await service.stop();
    await fake.close();
  });
  fake.updatePod('shop', 'api', (p) => (p.metadata!.labels!.step = '1'));
  await until(() => service.stats().pods.resourceVersion === fake.resourceVersion, 5000, 'caught up');
  const seen = service.stats().pods.resourceVersion;
  const watchesBefore = fake.count('watch', 'pods');
  fake.cutWatches();
  fake.updatePod('shop', 'api', (p) => (p.metadata!.labels!.step = '2'));
  await until(() => doc(service.lookup('shop', 'api', 'app')?.json).kubernetes.labels.step === '2', 5000, 'change made during the cut');
  const resumed = fake.requestsFor('watch', 'pods').slice(watchesBefore);
  assert.equal(resumed[0].query.resourceVersion, seen);
  assert.equal(fake.count('list', 'pods'), 1, 'no relist after a cut');
  assert.equal(service.stats().relists410, 0);
  assert.ok(service.stats().watchCuts >= 1);

  // A clean end (server timeout) is resumed the same way.
  fake.cutWatches({ clean: true });
  fake.addPod(makePod({ namespace: 'shop', name: 'after-clean-end', nodeName: 'node-a', containers: [{ name: 'c' }] }));
  await until(() => service.lookup('shop', 'after-clean-end', 'c') !== undefined, 5000, 'pod after clean end');
  assert.equal(fake.count('list', 'pods'), 1);
  assertListsWellFormed(fake);
});

test('bookmarks move the resourceVersion forward, so a cut after compaction needs no relist', async (t) => {
  const fake = await cluster();
  const { service } = await startService(fake);
  t.after(async () => {
    await service.stop();
    await fake.close();
  });
  for (let i = 0; i < 5; i++) fake.updatePod('shop', 'other-node', (p) => (p.metadata!.labels = { i: String(i) }));
  assert.notEqual(service.stats().pods.resourceVersion, fake.resourceVersion, "other nodes' events are not seen");
  fake.sendBookmark();
  await until(() => service.stats().pods.resourceVersion === fake.resourceVersion, 5000, 'bookmark');
  assert.ok(service.stats().bookmarks >= 1);
  fake.compactHistory();
  fake.cutWatches();
  await until(() => fake.count('watch', 'pods') >= 2 && service.connected, 5000, 'resumed');
  await sleep(200);
  assert.equal(service.stats().relists410, 0);
  assert.equal(fake.count('list', 'pods'), 1);
});

test('410 Gone (as ERROR event, then as HTTP status): exactly one relist each, with resourceVersion=0 and the node selector', async (t) => {
  const fake = await cluster();
  const { service } = await startService(fake, { deletedPodGraceMs: 60_000 });
  t.after(async () => {
    await service.stop();
    await fake.close();
  });
  for (const [round, asHttp] of [
    [1, false],
    [2, true],
  ] as const) {
    fake.goneAsHttpStatus = asHttp;
    fake.cutWatches();
    // While the agent is away: a pod comes, one goes, and the server forgets the history.
    fake.addPod(makePod({ namespace: 'shop', name: `gap-${round}`, nodeName: 'node-a', containers: [{ name: 'c' }] }));
    if (round === 2) fake.deletePod('shop', 'gap-1');
    fake.compactHistory('pods');
    await until(() => service.stats().pods.relists410 === round && service.lookup('shop', `gap-${round}`, 'c') !== undefined, 5000, `relist ${round}`);
    await sleep(300);
    assert.equal(fake.count('list', 'pods'), 1 + round, 'exactly one list per 410');
    assert.equal(service.stats().pods.relists410, round);
  }
  assert.equal(service.stats().deletedPodsRetained, 1, 'a pod missing from the relist counts as deleted (grace applies)');
  assert.equal(fake.count('list', 'namespaces'), 1);
  assertListsWellFormed(fake);
});

test('API down for 30 s: no request storm, waits end at their bound, metadata correct again after it returns', async (t) => {
  const fake = await cluster();
  const backoff = { minMs: 200, maxMs: 2000 };
  const { service } = await startService(fake, { backoff, waitForPodMs: 2000 });
  t.after(async () => {
    await service.stop();
    await fake.close();
  });
  const listsBefore = fake.count('list');
  await fake.goDown('reset');
  await until(() => !service.connected, 5000, 'disconnect noticed');
  const waiting = service.whenKnown('shop', 'unknown-pod', 2000);
  assert.ok(waiting instanceof Promise, 'API unreachable: it may be back any moment, so a wait is bounded, not refused');
  fake.addPod(makePod({ namespace: 'shop', name: 'born-during-outage', nodeName: 'node-a', labels: { app: 'new' }, containers: [{ name: 'c' }] }));
  fake.updatePod('shop', 'api', (p) => (p.metadata!.labels!.app = 'changed-during-outage'));
  fake.compactHistory();
  const downFor = 30_000;
  await sleep(downFor);
  assert.equal(await waiting, false, 'the API stayed down: the wait ran out at its bound');
  assert.equal(service.stats().waitTimeouts, 1);
  const attempts = fake.rejectedConnections;
  const bound = 2 * maxAttemptsWithin(downFor + 5000, backoff);
  assert.ok(attempts <= bound, `${attempts} connection attempts in 30 s > bound ${bound}`);
  assert.ok(attempts >= 2 * 8, `${attempts}: it kept trying`);

  const up = Date.now();
  await fake.comeUp();
  await until(() => service.connected && service.lookup('shop', 'born-during-outage', 'c') !== undefined, 2 * backoff.maxMs + 1000, 'reconnect');
  t.diagnostic(`reconnected ${Date.now() - up} ms after the API came back; ${attempts} attempts while down (bound ${bound})`);
  assert.equal(doc(service.lookup('shop', 'api', 'app')!.json).kubernetes.labels.app, 'changed-during-outage');
  await until(() => fake.count('list', 'namespaces', up) >= 1, 2 * backoff.maxMs + 1000, 'namespaces back');
  await sleep(500);
  assert.equal(fake.count('list', 'pods', up), 1, 'one list after the outage (history was compacted)');
  assert.equal(fake.count('list', 'namespaces', up), 1);
  assert.equal(fake.count('list') - listsBefore, 2, 'no list while down (no connection got through)');
  assertListsWellFormed(fake);
});

test('connection refused for a while: retries, then resumes from its resourceVersion without listing', async (t) => {
  const fake = await cluster();
  const { service } = await startService(fake, { backoff: { minMs: 100, maxMs: 400 } });
  t.after(async () => {
    await service.stop();
    await fake.close();
  });
  await fake.goDown('refuse');
  await until(() => service.stats().errors >= 4, 5000, 'failed attempts');
  fake.addPod(makePod({ namespace: 'shop', name: 'while-refused', nodeName: 'node-a', containers: [{ name: 'c' }] }));
  assert.equal(service.connected, false);
  assert.match(service.stats().pods.lastError ?? '', /ECONNREFUSED/);
  await fake.comeUp();
  await until(() => service.lookup('shop', 'while-refused', 'c') !== undefined, 5000, 'resumed');
  assert.equal(fake.count('list'), 2, 'history intact: resumed by watch, no list');
});

test('token rotation: the token file is re-read for every connection; a 401 backs off until the new token arrives', async (t) => {
  const fake = await cluster();
  fake.setTokens(['token-1']);
  const { service, rotateToken } = await startService(fake, { backoff: { minMs: 50, maxMs: 200 } }, 'token-1');
  t.after(async () => {
    await service.stop();
    await fake.close();
  });
  assert.equal(service.synced, true);
  rotateToken('token-2');
  fake.setTokens(['token-1', 'token-2']);
  const before = fake.count('watch', 'pods');
  fake.cutWatches();
  await until(() => fake.count('watch', 'pods') > before && service.connected, 5000, 'reconnect');
  assert.equal(fake.requestsFor('watch', 'pods').at(-1)!.authorization, 'Bearer token-2');

  // The old token is revoked before the file changes: 401s, with backoff, until the file is rotated.
  fake.setTokens(['token-3']);
  fake.cutWatches();
  await until(() => service.stats().pods.unauthorized >= 2, 5000, '401s');
  assert.equal(service.connected, false);
  rotateToken('token-3');
  fake.addPod(makePod({ namespace: 'shop', name: 'after-rotation', nodeName: 'node-a', containers: [{ name: 'c' }] }));
  await until(() => service.lookup('shop', 'after-rotation', 'c') !== undefined, 5000, 'recovered with the new token');
  const unauthorized = fake.requests.filter((r) => r.status === 401);
  assert.ok(unauthorized.every((r) => r.authorization === 'Bearer token-2'));
  assert.ok(unauthorized.length <= 2 * maxAttemptsWithin(5000, { minMs: 50, maxMs: 200 }));
});
