/**
 * The fake API server itself: does it speak the protocol the way a real API server does? Objects are
 * validated against the official OpenAPI schemas (kubernetes-models).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { FakeKubeApiServer } from '../helpers/fake-kube-apiserver.js';
import { deploymentPod, makeNamespace, makePod } from '../helpers/fake-kube-objects.js';

const auth = { authorization: 'Bearer test-token' };

async function get(fake: FakeKubeApiServer, path: string, headers: Record<string, string> = auth): Promise<{ status: number; body: any }> {
  const res = await fetch(fake.url + path, { headers });
  return { status: res.status, body: await res.json() };
}

/** Reads watch events until `count` arrived or the stream ends. */
async function watch(fake: FakeKubeApiServer, path: string, count: number, during?: () => void): Promise<Array<{ type: string; object: any }>> {
  const controller = new AbortController();
  const res = await fetch(fake.url + path, { headers: auth, signal: controller.signal });
  assert.equal(res.status, 200);
  const events: Array<{ type: string; object: any }> = [];
  const decoder = new TextDecoder();
  let buffered = '';
  during?.();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        events.push(JSON.parse(buffered.slice(0, nl)));
        buffered = buffered.slice(nl + 1);
      }
      if (events.length >= count) break;
    }
  } finally {
    controller.abort();
  }
  return events;
}

test('fake API server: lists, watches, selectors, bookmarks, 410, auth — as a real API server does', async (t) => {
  const fake = await FakeKubeApiServer.start();
  t.after(() => fake.close());
  fake.addNamespace(makeNamespace('shop', { team: 'payments' }));
  const mine = fake.addPod(
    deploymentPod({ namespace: 'shop', deployment: 'web', nodeName: 'node-a', labels: { app: 'web' }, containers: [{ name: 'app', image: 'nginx:1.25' }] }),
  );
  fake.addPod(makePod({ namespace: 'shop', name: 'elsewhere', nodeName: 'node-b', containers: [{ name: 'app' }] }));

  await t.test('objects pass the official schema', () => {
    new Pod(fake.pod('shop', mine.metadata!.name!)).validate();
    new Namespace(makeNamespace('x')).validate();
  });

  await t.test('401 without a valid bearer token, as a Status', async () => {
    const res = await get(fake, '/api/v1/pods', {});
    assert.equal(res.status, 401);
    assert.deepEqual([res.body.kind, res.body.code, res.body.reason], ['Status', 401, 'Unauthorized']);
    assert.equal((await get(fake, '/api/v1/pods', { authorization: 'Bearer wrong' })).status, 401);
  });

  await t.test('list: resourceVersion, kind, items without kind, field selector', async () => {
    const all = await get(fake, '/api/v1/pods?resourceVersion=0');
    assert.equal(all.status, 200);
    assert.equal(all.body.kind, 'PodList');
    assert.equal(all.body.metadata.resourceVersion, fake.resourceVersion);
    assert.equal(all.body.items.length, 2);
    assert.equal(all.body.items[0].kind, undefined);
    const node = await get(fake, '/api/v1/pods?resourceVersion=0&fieldSelector=' + encodeURIComponent('spec.nodeName=node-a'));
    assert.deepEqual(
      node.body.items.map((p: any) => p.metadata.name),
      [mine.metadata!.name],
    );
    const not = await get(fake, '/api/v1/pods?fieldSelector=' + encodeURIComponent('spec.nodeName!=node-a'));
    assert.deepEqual(
      not.body.items.map((p: any) => p.metadata.name),
      ['elsewhere'],
    );
    const bad = await get(fake, '/api/v1/pods?fieldSelector=spec.image%3Dx');
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /field label not supported: spec.image/);
    const namespaces = await get(fake, '/api/v1/namespaces?resourceVersion=0');
    assert.equal(namespaces.body.kind, 'NamespaceList');
    assert.equal(namespaces.body.items[0].metadata.labels['kubernetes.io/metadata.name'], 'shop');
    assert.equal((await get(fake, '/api/v1/namespaces/shop/pods')).body.items.length, 2);
  });

  await t.test('watch from 0: synthetic ADDED; from a version: replay after it, then live; selector turns scheduling into ADDED', async () => {
    const selector = '&fieldSelector=' + encodeURIComponent('spec.nodeName=node-a');
    const initial = await watch(fake, '/api/v1/pods?watch=true&resourceVersion=0' + selector, 1);
    assert.deepEqual(
      initial.map((e) => [e.type, e.object.kind, e.object.metadata.name]),
      [['ADDED', 'Pod', mine.metadata!.name]],
    );

    const from = fake.resourceVersion;
    fake.updatePod('shop', mine.metadata!.name!, (p) => (p.metadata!.labels!.version = '2'));
    fake.addPod(makePod({ namespace: 'shop', name: 'pending', nodeName: '', phase: 'Pending', containers: [{ name: 'app' }] }));
    const events = await watch(fake, `/api/v1/pods?watch=true&resourceVersion=${from}&allowWatchBookmarks=true${selector}`, 5, () => {
      fake.updatePod('shop', 'pending', (p) => (p.spec!.nodeName = 'node-a'));
      fake.sendBookmark();
      fake.deletePod('shop', 'pending');
    });
    assert.deepEqual(
      events.map((e) => [e.type, e.object.metadata.name ?? null]),
      [
        ['MODIFIED', mine.metadata!.name],
        ['ADDED', 'pending'],
        ['BOOKMARK', null],
        ['MODIFIED', 'pending'],
        ['DELETED', 'pending'],
      ],
    );
    assert.ok(events[3].object.metadata.deletionTimestamp, 'graceful deletion: MODIFIED with deletionTimestamp first');
    assert.equal(events[2].object.metadata.resourceVersion, events[1].object.metadata.resourceVersion);
    assert.ok(Number(events[0].object.metadata.resourceVersion) > Number(from));
  });

  await t.test('410 for a version older than the history: ERROR event with a Status, or HTTP 410', async () => {
    const old = fake.resourceVersion;
    fake.compactHistory();
    fake.updatePod('shop', mine.metadata!.name!, (p) => (p.metadata!.labels!.version = '3'));
    const [event] = await watch(fake, `/api/v1/pods?watch=true&resourceVersion=${Number(old) - 1}`, 1);
    assert.equal(event.type, 'ERROR');
    assert.deepEqual([event.object.kind, event.object.code, event.object.reason], ['Status', 410, 'Expired']);
    assert.match(event.object.message, /too old resource version/);
    fake.goneAsHttpStatus = true;
    const res = await fetch(`${fake.url}/api/v1/pods?watch=true&resourceVersion=${Number(old) - 1}`, { headers: auth });
    assert.equal(res.status, 410);
    assert.equal(((await res.json()) as { code: number }).code, 410);
    fake.goneAsHttpStatus = false;
  });

  await t.test('timeoutSeconds ends the stream cleanly; the request log records what was asked', async () => {
    const started = Date.now();
    const events = await watch(fake, `/api/v1/namespaces?watch=true&resourceVersion=${fake.resourceVersion}&timeoutSeconds=1`, 1);
    assert.equal(events.length, 0);
    assert.ok(Date.now() - started >= 900);
    const last = fake.requestsFor('watch', 'namespaces').at(-1)!;
    assert.equal(last.query.timeoutSeconds, '1');
    assert.ok(fake.count('list', 'pods') >= 3);
  });
});
