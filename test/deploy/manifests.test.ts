/**
 * Issue 7: every manifest validated offline (schemas + unknown fields), the kustomize base and the Helm
 * chart agree with the generator, and the contracts between manifests and agent hold.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { ALL_ENV_VARS } from '../../src/config/env-vars.js';
import { parseConfigText } from '../../src/config/parse.js';
import { AGENT_PORT, buildManifests, CONFIG_PATH, DATA_DIR } from '../../src/deploy/objects.js';
import { kustomizeFiles } from '../../src/deploy/render.js';
import { parseListenAddress } from '../../src/server/http.js';
import { validateObject } from '../helpers/k8s-validate.js';
import { runAgent } from '../helpers/agent-process.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function documents(text: string): Record<string, any>[] {
  return parseAllDocuments(text).map((d) => d.toJS()).filter((o) => o && typeof o === 'object');
}

function findHelm(): string | undefined {
  for (const candidate of [process.env.HELM, join(homedir(), 'go/bin/helm'), '/usr/local/bin/helm']) if (candidate && existsSync(candidate)) return candidate;
  const which = spawnSync('sh', ['-c', 'command -v helm'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

function daemonSet(objects: Record<string, any>[]) {
  return objects.find((o) => o.kind === 'DaemonSet')!;
}

describe('Kubernetes manifests', () => {
  it('`logferry manifests` output is valid Kubernetes with no unknown fields, and honours its flags', async () => {
    const result = await runAgent({ args: ['manifests', '--es-host', 'es.internal', '--es-port', '9243', '--es-scheme', 'https', '--es-secret', 'es-creds', '--image', 'registry.local/logferry:1', '--namespace', 'logs', '--seed-labels'] });
    assert.equal(result.code, 0, result.stderr);
    const objects = documents(result.stdout);
    assert.deepEqual(objects.map((o) => o.kind), ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'DaemonSet']);
    for (const object of objects) assert.deepEqual(validateObject(object), [], object.kind);
    const pod = daemonSet(objects).spec.template.spec;
    assert.deepEqual(pod.nodeSelector, { 'beta.kubernetes.io/fluentd-ds-ready': 'true' });
    const env = Object.fromEntries(pod.containers[0].env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
    assert.equal(env.ELASTICSEARCH_HOST, 'es.internal');
    assert.equal(env.ELASTICSEARCH_PORT, '9243');
    assert.equal(pod.containers[0].image, 'registry.local/logferry:1');
    assert.equal(pod.containers[0].envFrom[0].secretRef.name, 'es-creds');
    assert.equal(objects[0].metadata.name, 'logs');
    const bad = await runAgent({ args: ['manifests', '--es-port', '99999'] });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--es-port: 1-65535 \(got "99999"\)/);
  });

  it('the unknown-field check catches a misspelt field', () => {
    const objects = buildManifests();
    const ds = daemonSet(objects);
    ds.spec.template.spec.containers[0].imagePullPolcy = 'Always';
    assert.match(validateObject(ds).join('\n'), /containers\[0\]\.imagePullPolcy: unknown field of Container/);
  });

  it('the committed kustomize base is exactly what the generator writes', () => {
    for (const [name, text] of Object.entries(kustomizeFiles(buildManifests()))) {
      assert.equal(readFileSync(join(ROOT, 'deploy/kubernetes', name), 'utf8'), text, `deploy/kubernetes/${name} is stale: run logferry manifests --kustomize-dir deploy/kubernetes`);
    }
    const kubectl = spawnSync('kubectl', ['kustomize', join(ROOT, 'deploy/kubernetes')], { encoding: 'utf8' });
    if (kubectl.status === 0) assert.deepEqual(documents(kubectl.stdout).map((o) => o.kind).sort(), buildManifests().map((o) => o.kind).sort());
  });

  it('the Helm chart lints and renders the same objects as the generator', (t) => {
    const helm = findHelm();
    if (!helm) {
      if (process.env.CI === 'true') assert.fail('helm is not installed (.ci/run installs it)');
      t.skip('helm not installed');
      return;
    }
    const chart = join(ROOT, 'deploy/helm/logferry');
    const lint = spawnSync(helm, ['lint', chart], { encoding: 'utf8' });
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    const rendered = spawnSync(helm, ['template', 'logferry', chart, '--namespace', 'logferry'], { encoding: 'utf8' });
    assert.equal(rendered.status, 0, rendered.stderr);
    const fromHelm = documents(rendered.stdout);
    for (const object of fromHelm) assert.deepEqual(validateObject(object), [], object.kind);
    const expected = buildManifests().filter((o) => o.kind !== 'Namespace');
    const byKind = (list: Record<string, any>[]) => Object.fromEntries(list.map((o) => [o.kind, o]));
    assert.deepEqual(byKind(fromHelm), byKind(expected));
    const withOptions = spawnSync(helm, ['template', 'logferry', chart, '--namespace', 'logs', '--set', 'createNamespace=true,journald=true,elasticsearch.secret=es'], { encoding: 'utf8' });
    const objects = documents(withOptions.stdout);
    assert.ok(objects.some((o) => o.kind === 'Namespace' && o.metadata.name === 'logs'));
    for (const object of objects) assert.deepEqual(validateObject(object), [], object.kind);
    const cm = objects.find((o) => o.kind === 'ConfigMap')!;
    assert.equal(parseConfigText(cm.data['logferry.yaml'], 'helm ConfigMap').inputs.journald.enabled, true);
  });

  it('contracts: env vars the agent reads, config that validates, probes on the listening port, mounts for every path, RBAC exactly as used', () => {
    for (const options of [{}, { esSecret: 'x', journald: true }]) {
      const objects = buildManifests(options);
      const ds = daemonSet(objects);
      const container = ds.spec.template.spec.containers[0];
      for (const env of container.env) {
        if (env.name === 'NODE_OPTIONS') continue; // read by node itself
        assert.ok(ALL_ENV_VARS.includes(env.name), `${env.name} is set by the DaemonSet but not read by the agent`);
      }
      const configMap = objects.find((o) => o.kind === 'ConfigMap')!;
      const config = parseConfigText(configMap.data['logferry.yaml'], 'ConfigMap logferry');
      assert.equal(parseListenAddress(config.server.address).port, AGENT_PORT);
      assert.equal(container.ports[0].containerPort, AGENT_PORT);
      assert.equal(container.livenessProbe.httpGet.port, container.ports[0].name);
      assert.equal(container.readinessProbe.httpGet.path, '/readyz');
      const mounts: Array<{ mountPath: string; readOnly?: boolean }> = container.volumeMounts;
      const covered = (path: string) => mounts.some((m) => path === m.mountPath || path.startsWith(m.mountPath + '/'));
      for (const path of [...config.inputs.containers.paths, '/var/log/pods/x/0.log', ...config.inputs.components.files.map((f) => f.path), DATA_DIR, CONFIG_PATH]) {
        assert.ok(covered(path), `${path} is read but not mounted`);
      }
      assert.equal(mounts.find((m) => m.mountPath === '/var/log')?.readOnly, true);
      assert.ok(!mounts.find((m) => m.mountPath === DATA_DIR)?.readOnly);
      assert.deepEqual(container.args, ['run', '--config', CONFIG_PATH, '--data-dir', DATA_DIR]);
      const role = objects.find((o) => o.kind === 'ClusterRole')!;
      assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] }]);
      assert.deepEqual(container.securityContext.capabilities, { drop: ['ALL'], add: ['DAC_READ_SEARCH'] });
      assert.equal(container.securityContext.readOnlyRootFilesystem, true);
      assert.ok(ds.spec.template.spec.terminationGracePeriodSeconds * 1000 > config.pipeline.shutdownGraceMs);
    }
  });

  it('the Dockerfile ships what the tests run: bin/logferry.js, the compiled code, production dependencies', () => {
    const dockerfile = readFileSync(join(ROOT, 'deploy/docker/Dockerfile'), 'utf8');
    const copies = [...dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)].flatMap((m) => m[1].split(' '));
    for (const source of copies) assert.ok(existsSync(join(ROOT, source)), `COPY source ${source} does not exist`);
    assert.match(dockerfile, /COPY --from=build \S* ?\/src\/dist\/src \/app\/dist\/src/);
    assert.match(dockerfile, /ENTRYPOINT \["\/usr\/bin\/tini", "--", "node", "\/app\/bin\/logferry.js"\]/);
    assert.ok(existsSync(join(ROOT, 'dist/src/cli/main.js')), 'the build output the image copies exists');
    assert.match(dockerfile, /^USER 1000$/m);
    assert.match(dockerfile, /^FROM node:\d+\.\d+\.\d+-bookworm-slim AS build$/m);
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
    for (const entry of ['node_modules', 'dist', 'logferry-data', '.git']) assert.ok(ignore.split('\n').includes(entry), `.dockerignore lacks ${entry}`);
  });
});
