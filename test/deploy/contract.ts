/**
 * The contract between a set of node-agent manifests and the agent itself, checked the same way for the
 * generator, the kustomize base and the Helm chart: the agent's own config loader reads the ConfigMap
 * with the environment the DaemonSet sets, and every path, port and permission it then needs is there.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { ALL_ENV_VARS } from '../../src/config/env-vars.js';
import { loadConfig } from '../../src/config/load.js';
import { parseConfigText } from '../../src/config/parse.js';
import { parseListenAddress } from '../../src/server/http.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Read by node itself, not by logferry. */
const NODE_RUNTIME_VARS = new Set(['NODE_OPTIONS']);

export function documents(text: string): Record<string, any>[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter((o) => o !== null && typeof o === 'object');
}

/** A tool from $ENV_VAR, the PATH, or Go's install directory. */
export function findTool(name: string, envVar: string): string | undefined {
  const gopath = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' });
  const candidates = [process.env[envVar], gopath.status === 0 ? join(gopath.stdout.trim(), 'bin', name) : undefined, join(homedir(), 'go/bin', name)];
  for (const candidate of candidates) if (candidate && existsSync(candidate)) return candidate;
  const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() !== '' ? which.stdout.trim() : undefined;
}

function tolerates(tolerations: Array<Record<string, any>>, taint: { key: string; effect: string }): boolean {
  return tolerations.some(
    (t) =>
      (t.effect === undefined || t.effect === taint.effect) && (t.operator === 'Exists' ? t.key === undefined || t.key === taint.key : t.key === taint.key),
  );
}

/** The directory a glob's files are in (the part before its first wildcard). */
function staticDir(glob: string): string {
  const cut = glob.search(/[*?[{]/);
  const prefix = cut < 0 ? glob : glob.slice(0, cut);
  return prefix.endsWith('/') ? prefix.slice(0, -1) : prefix.slice(0, prefix.lastIndexOf('/'));
}

export interface ContractFacts {
  /** Elasticsearch URLs the agent would send to; empty when they come from a Secret */
  hosts: string[];
  port: number;
  journald: boolean;
}

export async function checkAgentContract(objects: Record<string, any>[], source: string, tmp: string): Promise<ContractFacts> {
  const one = (kind: string) => {
    const found = objects.filter((o) => o.kind === kind);
    assert.equal(found.length, 1, `${source}: one ${kind}`);
    return found[0];
  };
  const ds = one('DaemonSet');
  const pod = ds.spec.template.spec;
  assert.equal(pod.containers.length, 1, `${source}: one container`);
  const container = pod.containers[0];
  const where = (what: string) => `${source}: ${what}`;

  assert.equal(container.command, undefined, where('no command: the image ENTRYPOINT (tini, node, bin/logferry.js) runs'));
  assert.equal(container.args[0], 'run');
  const flag = (name: string) => container.args[container.args.indexOf(name) + 1] as string;
  const configPath = flag('--config');
  const dataDir = flag('--data-dir');

  for (const env of container.env) {
    assert.ok(
      ALL_ENV_VARS.includes(env.name) || NODE_RUNTIME_VARS.has(env.name),
      where(`${env.name} is set but the agent does not read it (src/config/env-vars.ts)`),
    );
  }
  assert.deepEqual(container.env.find((e: any) => e.name === 'NODE_NAME')?.valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } });

  // Volumes: every mount names a volume, every volume is mounted.
  const volumes = new Map<string, Record<string, any>>(pod.volumes.map((v: any) => [v.name, v]));
  const mounts: Array<Record<string, any>> = container.volumeMounts;
  for (const m of mounts) assert.ok(volumes.has(m.name), where(`mount ${m.mountPath} names no volume ${m.name}`));
  for (const name of volumes.keys())
    assert.ok(
      mounts.some((m) => m.name === name),
      where(`volume ${name} is not mounted`),
    );
  const mountOf = (path: string) =>
    mounts
      .filter((m) => path === m.mountPath || path.startsWith(m.mountPath.replace(/\/$/, '') + '/'))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];

  // The config file: mounted from the ConfigMap, and valid for the agent's own loader.
  const configMount = mountOf(configPath);
  assert.ok(configMount, where(`${configPath} is not mounted`));
  const configMap = one('ConfigMap');
  assert.equal(volumes.get(configMount.name)?.configMap?.name, configMap.metadata.name, where('the config mount is the ConfigMap'));
  const text = configMap.data[basename(configPath)];
  assert.equal(typeof text, 'string', where(`ConfigMap has no key ${basename(configPath)}`));
  parseConfigText(text, `${source} ConfigMap`);
  const configFile = join(mkdtempSync(join(tmp, 'cm-')), basename(configPath));
  writeFileSync(configFile, text);
  const env: Record<string, string> = { NODE_NAME: 'node-1', KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
  for (const e of container.env) if (typeof e.value === 'string') env[e.name] = e.value;
  const config = await loadConfig({ configFile, env, overrides: { dataDir } });
  assert.equal(config.profile, 'node');
  assert.equal(config.dataDir, dataDir);

  // Paths the agent reads and writes are mounted, read-only where it only reads.
  const read = [
    ...(config.inputs.containers.enabled ? config.inputs.containers.paths.map(staticDir) : []),
    '/var/log/pods', // what /var/log/containers/*.log link to
    ...(config.inputs.components.enabled ? config.inputs.components.files.map((f) => f.path) : []),
    ...(config.inputs.journald.enabled ? [config.inputs.journald.directory ?? '/var/log/journal'] : []),
  ];
  for (const path of read) {
    const m = mountOf(path);
    assert.ok(m, where(`${path} is read but not mounted`));
    assert.equal(m.readOnly, true, where(`${path} is only read: mount it read-only`));
    assert.ok(volumes.get(m.name)?.hostPath, where(`${path} comes from the host`));
  }
  if (config.inputs.journald.enabled) assert.ok(config.inputs.journald.directory, where('journalctl reads the host journal with --directory'));
  const state = mountOf(dataDir);
  assert.ok(state && !state.readOnly, where(`${dataDir} must be writable`));
  assert.equal(volumes.get(state.name)?.hostPath?.path, dataDir, where('checkpoints survive restarts on the host'));
  assert.equal(volumes.get(state.name)?.hostPath?.type, 'DirectoryOrCreate');
  assert.ok(mountOf('/tmp') && !mountOf('/tmp').readOnly, where('/tmp writable on a read-only root'));

  // Probes reach the address the agent listens on.
  const listen = parseListenAddress(config.server.address);
  assert.ok(['0.0.0.0', '::', ''].includes(listen.host), where(`server.address ${config.server.address}: the kubelet probes from outside the pod's loopback`));
  const port = container.ports.find((p: any) => p.name === 'http-metrics');
  assert.equal(port?.containerPort, listen.port, where('containerPort = server.address port'));
  assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'http-metrics' });
  assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'http-metrics' });

  // Permissions: the least that reads every log and writes the checkpoints (src/deploy/objects.ts).
  const sc = container.securityContext;
  assert.equal(sc.runAsUser, 0);
  assert.deepEqual(sc.capabilities, { drop: ['ALL'], add: ['DAC_READ_SEARCH'] });
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.equal(sc.privileged, undefined);

  // Scheduling and lifecycle.
  assert.ok(Object.keys(pod.nodeSelector ?? {}).length > 0, where('runs on labelled nodes only'));
  for (const key of ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master']) {
    assert.ok(tolerates(pod.tolerations ?? [], { key, effect: 'NoSchedule' }), where(`tolerates ${key}`));
  }
  assert.equal(pod.priorityClassName, 'system-node-critical');
  assert.equal(ds.spec.updateStrategy.type, 'RollingUpdate');
  assert.ok(pod.terminationGracePeriodSeconds * 1000 > config.pipeline.shutdownGraceMs, where('the kubelet waits for the agent to flush'));

  // RBAC: exactly read access to pods and namespaces, bound to the pod's service account.
  const role = one('ClusterRole');
  assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] }]);
  const binding = one('ClusterRoleBinding');
  const account = one('ServiceAccount');
  assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: account.metadata.name, namespace: ds.metadata.namespace }]);
  assert.equal(pod.serviceAccountName, account.metadata.name);
  assert.equal(account.metadata.namespace, ds.metadata.namespace);
  assert.equal(configMap.metadata.namespace, ds.metadata.namespace);

  return {
    hosts: config.output.kind === 'elasticsearch' ? config.output.elasticsearch.hosts.map((h) => String(h).replace(/\/$/, '')) : [],
    port: listen.port,
    journald: config.inputs.journald.enabled,
  };
}
