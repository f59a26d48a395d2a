/**
 * The ClusterRole against what the agent really asks the API server: the real metadata service runs
 * against the fake API server through a start, changes, a cut watch and a 410 relist; every request is
 * classified the way the API server's authorizer sees it (verb, API group, resource) and must be allowed
 * by the manifests' rules — and every rule must be used, so the role grants nothing extra.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildManifests } from '../../src/deploy/objects.js';
import { FakeKubeApiServer, type RequestLogEntry } from '../helpers/fake-kube-apiserver.js';
import { makeNamespace, makePod } from '../helpers/fake-kube-objects.js';
import { startService, until } from '../helpers/kube-service.js';

interface Access {
  verb: string;
  group: string;
  resource: string;
}

/** The authorizer's view of a request (k8s.io/apiserver RequestInfo, for core and named groups). */
function accessOf(request: RequestLogEntry): Access {
  const parts = request.path.split('/').filter(Boolean);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1];
    rest = parts.slice(3);
  } else {
    return { verb: request.method.toLowerCase(), group: '(non-resource)', resource: request.path };
  }
  // namespaces/NS/RESOURCE[/NAME] is a namespaced resource; namespaces[/NAME] is the namespaces resource.
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [resource, name] = rest;
  const watch = request.query.watch === 'true' || request.query.watch === '1';
  const method = request.method.toUpperCase();
  const verb =
    method === 'GET'
      ? watch
        ? 'watch'
        : name === undefined
          ? 'list'
          : 'get'
      : method === 'POST'
        ? 'create'
        : method === 'DELETE'
          ? 'delete'
          : method.toLowerCase();
  return { verb, group, resource };
}

function allowed(rules: Array<Record<string, string[]>>, access: Access): boolean {
  return rules.some((r) => r.apiGroups.includes(access.group) && r.resources.includes(access.resource) && r.verbs.includes(access.verb));
}

test('the ClusterRole allows every request the metadata cache makes, and nothing it does not use', async (t) => {
  const fake = await FakeKubeApiServer.start();
  fake.addNamespace(makeNamespace('shop', { team: 'payments' }));
  fake.addPod(makePod({ namespace: 'shop', name: 'api', nodeName: 'node-a', labels: { app: 'api' }, containers: [{ name: 'app' }] }));
  const { service } = await startService(fake, { deletedPodGraceMs: 100 });
  t.after(async () => {
    await service.stop();
    await fake.close();
  });
  fake.addPod(makePod({ namespace: 'shop', name: 'worker', nodeName: 'node-a', containers: [{ name: 'app' }] }));
  fake.updateNamespace('shop', (ns) => {
    ns.metadata!.labels = { team: 'checkout' };
  });
  // A cut watch resumes; an expired resourceVersion makes it list again.
  const watchesBefore = fake.count('watch');
  fake.cutWatches();
  await until(() => fake.activeWatches >= 2 && fake.count('watch') > watchesBefore, 5000, 'watches resumed');
  const listsBefore = fake.count('list');
  fake.compactHistory();
  fake.addPod(makePod({ namespace: 'shop', name: 'late', nodeName: 'node-a', containers: [{ name: 'app' }] }));
  fake.cutWatches();
  await until(() => fake.count('list') > listsBefore && fake.activeWatches >= 2, 5000, 'relisted after 410');

  const rules = buildManifests().find((o) => o.kind === 'ClusterRole')!.rules as Array<Record<string, string[]>>;
  const used = fake.requests.map(accessOf);
  assert.ok(used.length >= 6, `requests seen: ${used.length}`);
  for (const access of used) assert.ok(allowed(rules, access), `the agent makes a request its ClusterRole forbids: ${JSON.stringify(access)}`);
  const usedResources = new Set(used.map((a) => `${a.group}/${a.resource}`));
  const usedVerbs = new Set(used.map((a) => a.verb));
  for (const rule of rules) {
    for (const resource of rule.resources)
      assert.ok(usedResources.has(`${rule.apiGroups[0]}/${resource}`), `the ClusterRole grants ${resource}, which the agent never reads`);
    // get is granted with list/watch (read-only access as a whole); any other verb must be used.
    for (const verb of rule.verbs) assert.ok(usedVerbs.has(verb) || verb === 'get', `the ClusterRole grants ${verb}, which the agent never uses`);
    assert.ok(
      rule.verbs.every((v) => ['get', 'list', 'watch'].includes(v)),
      'read-only',
    );
  }
  assert.deepEqual([...usedVerbs].sort(), ['list', 'watch']);
});
