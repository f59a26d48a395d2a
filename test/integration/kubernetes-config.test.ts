/**
 * Finding the API server: in-cluster service account over TLS with its CA, kubeconfig (explicit, KUBECONFIG,
 * ~/.kube/config), nothing at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeKubeApiServer } from '../helpers/fake-kube-apiserver.js';
import { makeNamespace, makePod } from '../helpers/fake-kube-objects.js';
import { kubernetesConfigSchema } from '../../src/kubernetes/config.js';
import { createKubernetesMetadata } from '../../src/kubernetes/metadata-service.js';
import { UsageError } from '../../src/cli/errors.js';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** A CA and a server certificate for 127.0.0.1 signed by it (what a cluster's ca.crt vouches for). */
function certificates(dir: string): { ca: string; key: string; cert: string } {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=fake-kubernetes-ca']);
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:kubernetes.default.svc\n');
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '1',
    '-extfile',
    'ext.cnf',
  ]);
  return {
    ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
    cert: readFileSync(join(dir, 'server.crt'), 'utf8'),
  };
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function seed(fake: FakeKubeApiServer): void {
  fake.addNamespace(makeNamespace('shop'));
  fake.addPod(makePod({ namespace: 'shop', name: 'api', nodeName: 'node-a', containers: [{ name: 'app' }] }));
}

const quick = { nodeName: 'node-a', startTimeoutMs: 3000, backoff: { minMs: 50, maxMs: 200 } };

test(
  'in-cluster: service host from the environment, token and CA from the service account directory, TLS verified',
  { skip: !hasOpenssl() && 'openssl not installed' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'logferry-kube-tls-'));
    const tls = certificates(dir);
    const fake = await FakeKubeApiServer.start({ tls, tokens: ['sa-token'] });
    t.after(() => fake.close());
    seed(fake);
    const saDir = join(dir, 'serviceaccount');
    mkdirSync(saDir);
    writeFileSync(join(saDir, 'token'), 'sa-token');
    writeFileSync(join(saDir, 'ca.crt'), tls.ca);
    const env = { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: new URL(fake.url).port };
    const service = (await createKubernetesMetadata(kubernetesConfigSchema.parse(quick), { env, serviceAccountDir: saDir }))!;
    await service.start();
    t.after(() => service.stop());
    assert.equal(service.synced, true);
    assert.ok(service.lookup('shop', 'api', 'app'));
    assert.equal(fake.requests[0].authorization, 'Bearer sa-token');

    // Another CA: the connection must fail verification, not fall back to trusting anything.
    const otherDir = mkdtempSync(join(tmpdir(), 'logferry-kube-tls-'));
    const other = certificates(otherDir);
    writeFileSync(join(otherDir, 'token'), 'sa-token');
    writeFileSync(join(otherDir, 'ca.crt'), other.ca);
    const untrusted = (await createKubernetesMetadata(kubernetesConfigSchema.parse({ ...quick, startTimeoutMs: 500 }), { env, serviceAccountDir: otherDir }))!;
    await untrusted.start();
    assert.equal(untrusted.synced, false);
    assert.match(untrusted.stats().pods.lastError ?? '', /certificate|self.signed|verify/i);
    await untrusted.stop();
  },
);

test(
  'kubeconfig: explicit path, KUBECONFIG, ~/.kube/config (with the CA from certificate-authority-data)',
  { skip: !hasOpenssl() && 'openssl not installed' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'logferry-kubeconfig-'));
    const tls = certificates(dir);
    const fake = await FakeKubeApiServer.start({ tls, tokens: ['user-token'] });
    t.after(() => fake.close());
    seed(fake);
    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${fake.url}`,
      `    certificate-authority-data: ${Buffer.from(tls.ca).toString('base64')}`,
      'users:',
      '- name: dev',
      '  user:',
      '    token: user-token',
      'contexts:',
      '- name: dev@fake',
      '  context: { cluster: fake, user: dev }',
      'current-context: dev@fake',
      '',
    ].join('\n');
    const path = join(dir, 'config');
    writeFileSync(path, kubeconfig);
    mkdirSync(join(dir, 'home', '.kube'), { recursive: true });
    writeFileSync(join(dir, 'home', '.kube', 'config'), kubeconfig);
    const ways = [
      { name: 'kubeconfig key', config: { ...quick, kubeconfig: path }, env: {}, home: join(dir, 'nowhere') },
      { name: 'KUBECONFIG', config: quick, env: { KUBECONFIG: path }, home: join(dir, 'nowhere') },
      { name: '~/.kube/config', config: quick, env: {}, home: join(dir, 'home') },
    ];
    for (const way of ways) {
      const service = await createKubernetesMetadata(kubernetesConfigSchema.parse(way.config), {
        env: way.env,
        home: way.home,
        serviceAccountDir: join(dir, 'no-sa'),
      });
      assert.ok(service, way.name);
      await service.start();
      assert.equal(service.synced, true, way.name);
      assert.ok(service.lookup('shop', 'api', 'app'), way.name);
      await service.stop();
    }
    assert.ok(fake.requests.every((r) => r.authorization === 'Bearer user-token'));
  },
);

test('no cluster, no kubeconfig: no service (records keep file-name metadata); disabled: none; no node name: usage error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'logferry-nokube-'));
  const none = await createKubernetesMetadata(kubernetesConfigSchema.parse({ nodeName: 'n' }), { env: {}, home: dir, serviceAccountDir: join(dir, 'sa') });
  assert.equal(none, undefined);
  const disabled = await createKubernetesMetadata(kubernetesConfigSchema.parse({ enabled: false, apiServer: 'http://127.0.0.1:1' }), { env: {} });
  assert.equal(disabled, undefined);
  await assert.rejects(
    createKubernetesMetadata(kubernetesConfigSchema.parse({ apiServer: 'http://127.0.0.1:1' }), { env: {} }),
    (error: unknown) => error instanceof UsageError && /kubernetes\.nodeName/.test(error.message),
  );
  await assert.rejects(
    createKubernetesMetadata(kubernetesConfigSchema.parse({ nodeName: 'n', kubeconfig: join(dir, 'missing') }), { env: {} }),
    (error: unknown) => error instanceof UsageError && /kubernetes\.kubeconfig: cannot load/.test(error.message),
  );
});
