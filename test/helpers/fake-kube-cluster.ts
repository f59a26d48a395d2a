/**
 * A fake cluster matching a test log tree (test/helpers/log-tree.ts): one Pod per `<ns>/<pod>` with the
 * tree's pod uid and container ids, a Namespace per namespace, and a token file. The agent is pointed at
 * it with the `kubernetes:` config section in {@link FakeCluster.config} (or {@link FakeCluster.yaml}).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeKubeApiServer } from './fake-kube-apiserver.js';
import { makeNamespace, makePod, type FakePodInput, type INamespace, type IPod } from './fake-kube-objects.js';
import { addContainer, type PodContainer } from './log-tree.js';

export type PodExtras = Partial<Pick<FakePodInput, 'labels' | 'annotations' | 'owner' | 'podIP' | 'initContainers'>> & {
  /** container name → image */
  images?: Record<string, string>;
};

export interface FakeClusterOptions {
  nodeName: string;
  /** containers created with log-tree's addContainer */
  containers: PodContainer[];
  /** per `<namespace>/<pod>`: labels, annotations, owner, ... */
  pods?: Record<string, PodExtras>;
  /** per namespace: labels */
  namespaces?: Record<string, Record<string, string>>;
  token?: string;
  /** pods to leave out of the API at first (add them later with {@link FakeCluster.addPodFor}) */
  omit?: string[];
}

export interface FakeCluster {
  api: FakeKubeApiServer;
  nodeName: string;
  tokenFile: string;
  /** the agent's `kubernetes:` section for this cluster (short backoff, for tests) */
  config: { apiServer: string; tokenFile: string; nodeName: string; backoff: { minMs: number; maxMs: number } };
  /** the same section as YAML lines */
  yaml: string;
  pods: Map<string, IPod>;
  /** adds the pod of these containers (all of one pod) to the API, e.g. after its first lines were written */
  addPodFor(containers: PodContainer[], extras?: PodExtras): IPod;
  close(): Promise<void>;
}

/**
 * Several containers of ONE pod in a log tree (log-tree's addContainer gives every container its own pod
 * uid, which a real pod cannot have): same `/var/log/pods/<ns>_<pod>_<uid>/` directory for all of them.
 */
export function addPodContainers(root: string, namespace: string, pod: string, containers: string[], format: 'cri' | 'docker' = 'cri'): PodContainer[] {
  const uid = randomUUID();
  return containers.map((container) => addContainer(root, namespace, pod, container, format, uid));
}

/** The Pod object the kubelet would report for these containers of one pod. */
export function podForContainers(containers: PodContainer[], nodeName: string, extras: PodExtras = {}): IPod {
  const first = containers[0];
  if (containers.some((c) => c.uid !== first.uid)) {
    throw new Error(`fake cluster: containers of ${first.namespace}/${first.pod} have different pod uids; create them with addPodContainers()`);
  }
  return makePod({
    namespace: first.namespace,
    name: first.pod,
    uid: first.uid,
    nodeName,
    labels: extras.labels,
    annotations: extras.annotations,
    owner: extras.owner,
    podIP: extras.podIP,
    initContainers: extras.initContainers,
    containers: containers.map((c) => ({ name: c.container, containerId: c.containerId, image: extras.images?.[c.container] })),
  });
}

export function groupByPod(containers: PodContainer[]): Map<string, PodContainer[]> {
  const groups = new Map<string, PodContainer[]>();
  for (const c of containers) {
    const key = `${c.namespace}/${c.pod}`;
    const list = groups.get(key) ?? [];
    list.push(c);
    groups.set(key, list);
  }
  return groups;
}

export async function startFakeCluster(options: FakeClusterOptions): Promise<FakeCluster> {
  const token = options.token ?? 'test-token';
  const api = await FakeKubeApiServer.start({ tokens: [token] });
  const dir = mkdtempSync(join(tmpdir(), 'logferry-fake-kube-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, token + '\n');
  const namespaces = new Set(options.containers.map((c) => c.namespace));
  for (const name of Object.keys(options.namespaces ?? {})) namespaces.add(name);
  const nsObjects: INamespace[] = [...namespaces].map((name) => makeNamespace(name, options.namespaces?.[name] ?? {}));
  for (const ns of nsObjects) api.addNamespace(ns);
  const pods = new Map<string, IPod>();
  const omit = new Set(options.omit ?? []);
  for (const [key, group] of groupByPod(options.containers)) {
    if (omit.has(key)) continue;
    pods.set(key, api.addPod(podForContainers(group, options.nodeName, options.pods?.[key])));
  }
  const config = { apiServer: api.url, tokenFile, nodeName: options.nodeName, backoff: { minMs: 100, maxMs: 1000 } };
  const yaml = [
    'kubernetes:',
    `  apiServer: ${JSON.stringify(config.apiServer)}`,
    `  tokenFile: ${JSON.stringify(tokenFile)}`,
    `  nodeName: ${JSON.stringify(options.nodeName)}`,
    '  backoff: { minMs: 100, maxMs: 1000 }',
  ].join('\n');
  return {
    api,
    nodeName: options.nodeName,
    tokenFile,
    config,
    yaml,
    pods,
    addPodFor(containers, extras) {
      const pod = api.addPod(podForContainers(containers, options.nodeName, extras));
      pods.set(`${containers[0].namespace}/${containers[0].pod}`, pod);
      return pod;
    },
    close: () => api.close(),
  };
}
