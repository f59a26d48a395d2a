/**
 * Issue 7: every manifest validated offline (schemas + unknown fields); the kustomize base and the Helm
 * chart agree with the generator; the contracts between manifests and agent hold (test/deploy/contract.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { buildManifests, DEFAULT_TOLERATIONS, PLACEHOLDER_ES_HOST, SEED_NODE_SELECTOR, type ManifestOptions } from '../../src/deploy/objects.js';
import { kustomizeFiles } from '../../src/deploy/render.js';
import { runAgent } from '../helpers/agent-process.js';
import { checkAgentContract, documents, findTool, ROOT } from './contract.js';
import { validateObject } from './k8s-validate.js';

const byKind = (list: Record<string, any>[]) => Object.fromEntries(list.map((o) => [o.kind, o]));
const HELM_LABELS = ['app.kubernetes.io/version', 'app.kubernetes.io/managed-by', 'helm.sh/chart'];

/** Helm's object minus what only Helm adds: its bookkeeping labels and the config checksum annotation. */
function withoutHelmExtras(object: Record<string, any>): Record<string, any> {
  const copy = structuredClone(object);
  for (const label of HELM_LABELS) delete copy.metadata?.labels?.[label];
  const template = copy.spec?.template?.metadata;
  if (template?.annotations) {
    assert.match(template.annotations['checksum/config'] ?? '', /^[0-9a-f]{64}$/, 'the pods carry the config checksum');
    delete template.annotations['checksum/config'];
    if (Object.keys(template.annotations).length === 0) delete template.annotations;
  }
  return copy;
}

function assertValid(objects: Record<string, any>[], source: string): void {
  assert.ok(objects.length > 0, `${source}: no objects`);
  for (const object of objects) assert.deepEqual(validateObject(object), [], `${source}: ${object.kind}`);
}

describe('Kubernetes manifests', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-manifests-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('`logferry manifests` prints valid objects that honour its flags and meet the agent contract', async () => {
    const result = await runAgent({
      args: [
        'manifests',
        '--es-host',
        'es.internal',
        '--es-port',
        '9243',
        '--es-scheme',
        'https',
        '--es-secret',
        'es-creds',
        '--image',
        'registry.local/logferry:1',
        '--namespace',
        'logs',
        '--seed-labels',
        '--journald',
      ],
    });
    assert.equal(result.code, 0, result.stderr);
    const objects = documents(result.stdout);
    assert.deepEqual(
      objects.map((o) => o.kind),
      ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'DaemonSet'],
    );
    assertValid(objects, 'logferry manifests');
    const pod = byKind(objects).DaemonSet.spec.template.spec;
    assert.deepEqual(pod.nodeSelector, { 'beta.kubernetes.io/fluentd-ds-ready': 'true' });
    assert.equal(pod.containers[0].image, 'registry.local/logferry:1');
    assert.equal(pod.containers[0].envFrom[0].secretRef.name, 'es-creds');
    assert.equal(objects[0].metadata.name, 'logs');
    assert.ok(objects.slice(1).every((o) => o.kind.startsWith('Cluster') || o.metadata.namespace === 'logs'));
    assert.equal(byKind(objects).ClusterRoleBinding.subjects[0].namespace, 'logs');
    const contract = await checkAgentContract(objects, 'logferry manifests', dir);
    assert.deepEqual(contract.hosts, ['https://es.internal:9243']);
    assert.equal(contract.journald, true);
  });

  it('`logferry manifests` refuses what would not work, exit 2 naming the flag', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--es-host', 'es', '--es-port', '99999'], /--es-port: 1-65535 \(got "99999"\)/],
      [[], /--es-host: where is Elasticsearch\?/],
      [['--es-host', 'http://es:9200'], /--es-host: a host name or address without scheme or port/],
      [['--es-host', 'es', '--namespace', 'Logs'], /--namespace: not a valid namespace name/],
      [['--es-host', 'es', '--node-selector', 'pool'], /--node-selector: expected key=value/],
      [['--es-host', 'es', '--seed-labels', '--node-selector', 'a=b'], /--seed-labels and --node-selector: give one of them/],
      [['--es-host', 'es', '--es-scheme', 'ftp'], /--es-scheme: http or https/],
    ];
    for (const [args, message] of cases) {
      const result = await runAgent({ args: ['manifests', ...args] });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '', 'nothing half-printed');
    }
    const secretOnly = await runAgent({ args: ['manifests', '--es-secret', 'es-hosts', '--node-selector', 'pool=logs,example.com/tier=infra'] });
    assert.equal(secretOnly.code, 0, secretOnly.stderr);
    const container = byKind(documents(secretOnly.stdout)).DaemonSet.spec.template.spec.containers[0];
    assert.ok(!container.env.some((e: any) => e.name.startsWith('ELASTICSEARCH_')), 'with a Secret alone, the Secret names the hosts');
    assert.deepEqual(byKind(documents(secretOnly.stdout)).DaemonSet.spec.template.spec.nodeSelector, { pool: 'logs', 'example.com/tier': 'infra' });
  });

  it('the unknown-field check catches misspelt fields at any depth', () => {
    const typos: Array<[(ds: Record<string, any>) => void, RegExp]> = [
      [
        (ds) => (ds.spec.template.spec.containers[0].imagePullPolcy = 'Always'),
        /DaemonSet\.spec\.template\.spec\.containers\[0\]\.imagePullPolcy: unknown field of V1Container/,
      ],
      [
        (ds) => (ds.spec.template.spec.securityContext = { runAsUsr: 0 }),
        /spec\.template\.spec\.securityContext\.runAsUsr: unknown field of V1PodSecurityContext/,
      ],
      [(ds) => (ds.spec.template.spec.volumes[0].hostPath.readonly = true), /volumes\[0\]\.hostPath\.readonly: unknown field of V1HostPathVolumeSource/],
      [(ds) => (ds.spec.updateStrategy.rollingUpdate.maxUnavaliable = 1), /rollingUpdate\.maxUnavaliable: unknown field/],
      [(ds) => (ds.metadata.label = {}), /DaemonSet\.metadata\.label: unknown field of V1ObjectMeta/],
      [(ds) => (ds.spec.template.spec.containers[0].resources.limits = [1]), /resources/],
    ];
    for (const [change, expected] of typos) {
      const ds = byKind(buildManifests()).DaemonSet;
      assert.deepEqual(validateObject(ds), []);
      change(ds);
      assert.match(validateObject(ds).join('\n'), expected);
    }
    const role = byKind(buildManifests()).ClusterRole;
    role.rules[0].verb = ['get'];
    assert.match(validateObject(role).join('\n'), /ClusterRole\.rules\[0\]\.verb: unknown field of V1PolicyRule/);
  });

  it('the committed kustomize base is what the generator writes, and kubectl kustomize renders the same valid objects', async (t) => {
    for (const [name, text] of Object.entries(kustomizeFiles(buildManifests()))) {
      assert.equal(
        readFileSync(join(ROOT, 'deploy/kubernetes', name), 'utf8'),
        text,
        `deploy/kubernetes/${name} is stale: run node bin/logferry.js manifests --kustomize-dir deploy/kubernetes`,
      );
    }
    const kubectl = findTool('kubectl', 'KUBECTL');
    if (kubectl === undefined) {
      t.skip('kubectl not installed: the base was checked file by file only');
      return;
    }
    const rendered = spawnSync(kubectl, ['kustomize', join(ROOT, 'deploy/kubernetes')], { encoding: 'utf8' });
    assert.equal(rendered.status, 0, rendered.stderr);
    const objects = documents(rendered.stdout);
    assertValid(objects, 'kubectl kustomize');
    assert.deepEqual(byKind(objects), byKind(buildManifests()));
    await checkAgentContract(objects, 'kustomize base', dir);
    // The example overlay: the base's placeholders replaced the kustomize way.
    const overlay = spawnSync(kubectl, ['kustomize', join(ROOT, 'deploy/examples/kustomize-overlay')], { encoding: 'utf8' });
    assert.equal(overlay.status, 0, overlay.stderr);
    const patched = documents(overlay.stdout);
    assertValid(patched, 'kustomize overlay');
    const contract = await checkAgentContract(patched, 'kustomize overlay', dir);
    assert.deepEqual(contract.hosts, ['https://es.example.com:9243']);
    const pod = byKind(patched).DaemonSet.spec.template.spec;
    assert.deepEqual(pod.nodeSelector, SEED_NODE_SELECTOR);
    assert.equal(pod.containers[0].image, 'registry.example.com/logferry:0.1.0');
  });

  it('the Helm chart lints, and renders the generator objects (modulo Helm labels) for the same settings', async (t) => {
    const helm = findTool('helm', 'HELM');
    if (helm === undefined) {
      if (process.env.CI === 'true') assert.fail('helm is not installed (.ci/run installs it)');
      t.skip('helm not installed');
      return;
    }
    const chart = join(ROOT, 'deploy/helm/logferry');
    const lint = spawnSync(helm, ['lint', '--strict', chart], { encoding: 'utf8' });
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    const template = (namespace: string, values: Record<string, unknown> | undefined) => {
      const args = ['template', 'logferry', chart, '--namespace', namespace];
      if (values !== undefined) {
        const file = join(dir, `values-${Math.random().toString(36).slice(2)}.yaml`);
        writeFileSync(file, stringify(values));
        args.push('--values', file);
      }
      return spawnSync(helm, args, { encoding: 'utf8' });
    };
    const settings: Array<{ name: string; namespace: string; values?: Record<string, unknown>; options: ManifestOptions; createNamespace?: boolean }> = [
      { name: 'defaults', namespace: 'logferry', options: {} },
      {
        name: 'seed labels, TLS, credentials, journald, own image and namespace',
        namespace: 'logs',
        values: {
          elasticsearch: { host: 'es.internal', port: 9243, scheme: 'https', secret: 'es-creds' },
          image: { repository: 'registry.local/logferry', tag: '1.2.3' },
          nodeSelector: { 'logferry.io/enabled': null, ...SEED_NODE_SELECTOR },
          journald: true,
          createNamespace: true,
        },
        options: {
          namespace: 'logs',
          esHost: 'es.internal',
          esPort: 9243,
          esScheme: 'https',
          esSecret: 'es-creds',
          image: 'registry.local/logferry:1.2.3',
          nodeSelector: SEED_NODE_SELECTOR,
          journald: true,
        },
        createNamespace: true,
      },
      { name: 'hosts from a Secret', namespace: 'logferry', values: { elasticsearch: { host: '', secret: 'es-hosts' } }, options: { esSecret: 'es-hosts' } },
    ];
    for (const setting of settings) {
      const rendered = template(setting.namespace, setting.values);
      assert.equal(rendered.status, 0, `${setting.name}: ${rendered.stderr}`);
      const fromHelm = documents(rendered.stdout);
      assertValid(fromHelm, `helm template (${setting.name})`);
      const expected = buildManifests(setting.options).filter((o) => setting.createNamespace || o.kind !== 'Namespace');
      assert.deepEqual(byKind(fromHelm.map(withoutHelmExtras)), byKind(expected), setting.name);
      await checkAgentContract(fromHelm, `helm template (${setting.name})`, dir);
    }
    assert.deepEqual(DEFAULT_TOLERATIONS, [{ operator: 'Exists' }]);
    const noHost = template('logferry', { elasticsearch: { host: '' } });
    assert.notEqual(noHost.status, 0);
    assert.match(noHost.stderr, /set elasticsearch\.host, or elasticsearch\.secret/);
    const typo = template('logferry', { elasticsearch: { hots: 'es' } });
    assert.notEqual(typo.status, 0, 'values.schema.json rejects unknown keys');
    assert.match(typo.stderr, /hots/);
    const badAddress = template('logferry', { config: { server: { address: '0.0.0.0' } } });
    assert.notEqual(badAddress.status, 0, 'server.address needs a port: it is the container port');
    const otherPort = template('logferry', { config: { server: { address: '0.0.0.0:9102' } } });
    assert.equal(otherPort.status, 0, otherPort.stderr);
    const contract = await checkAgentContract(documents(otherPort.stdout), 'helm with server.address :9102', dir);
    assert.equal(contract.port, 9102);
    assert.equal(
      byKind(documents(template('logferry', undefined).stdout)).DaemonSet.spec.template.spec.containers[0].env.find((e: any) => e.name === 'ELASTICSEARCH_HOST')
        .value,
      PLACEHOLDER_ES_HOST,
    );
  });

  it('contracts hold for every variant of the generator', async () => {
    const variants: ManifestOptions[] = [
      {},
      { esSecret: 'x', journald: true },
      { esSecret: 'only-secret' },
      { esHost: '[fd00::1]', esPort: 443, esScheme: 'https' },
    ];
    for (const options of variants) {
      const objects = buildManifests(options);
      assertValid(objects, JSON.stringify(options));
      const contract = await checkAgentContract(objects, JSON.stringify(options), dir);
      if (options.esHost === undefined && options.esSecret !== undefined) assert.deepEqual(contract.hosts, []);
      else assert.equal(contract.hosts.length, 1);
    }
  });
});
