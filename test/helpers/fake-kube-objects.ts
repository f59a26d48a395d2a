/**
 * Pod and Namespace objects shaped the way a real API server returns them (metadata.uid,
 * resourceVersion, managedFields, ownerReferences, status.containerStatuses with containerID, ...), for
 * the fake API server and for tests. Typed with kubernetes-models so a misspelt field fails to compile.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IContainerStatus } from 'kubernetes-models/v1/ContainerStatus';
import type { IContainer } from 'kubernetes-models/v1/Container';

export type { IPod, INamespace };

export interface FakeContainer {
  name: string;
  image?: string;
  /** 64 hex characters, without the runtime prefix; random by default */
  containerId?: string;
  runtime?: 'containerd' | 'docker' | 'cri-o';
  restartCount?: number;
}

export interface FakeOwner {
  kind: string;
  name: string;
  apiVersion?: string;
}

export interface FakePodInput {
  namespace: string;
  name: string;
  nodeName: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  owner?: FakeOwner;
  containers: FakeContainer[];
  initContainers?: FakeContainer[];
  podIP?: string;
  hostIP?: string;
  /** a pod that has not started its containers yet has no containerStatuses ids */
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
}

const OWNER_API: Record<string, string> = { ReplicaSet: 'apps/v1', StatefulSet: 'apps/v1', DaemonSet: 'apps/v1', Job: 'batch/v1', Node: 'v1' };
let ipCounter = 10;

function timestamp(ms = Date.now()): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function randomContainerId(): string {
  return randomBytes(32).toString('hex');
}

function imageOf(c: FakeContainer): string {
  return c.image ?? `registry.example.com/${c.name}:1.0.0`;
}

function status(c: FakeContainer, running: boolean, started: string): IContainerStatus {
  const image = imageOf(c);
  const fullImage = image.includes('/') ? image : `docker.io/library/${image}`;
  const base: IContainerStatus = {
    name: c.name,
    image: fullImage,
    imageID: `${fullImage.split(':')[0]}@sha256:${createHash('sha256').update(image).digest('hex')}`,
    ready: running,
    restartCount: c.restartCount ?? 0,
    started: running,
    state: running ? { running: { startedAt: started } } : { waiting: { reason: 'ContainerCreating' } },
    lastState: {},
  };
  if (running) base.containerID = `${c.runtime ?? 'containerd'}://${c.containerId ?? randomContainerId()}`;
  return base;
}

export function makePod(input: FakePodInput): IPod {
  const created = timestamp();
  const phase = input.phase ?? 'Running';
  const running = phase === 'Running' || phase === 'Succeeded' || phase === 'Failed';
  const podIP = input.podIP ?? `10.244.${(ipCounter >> 8) & 255}.${ipCounter++ & 255}`;
  const hostIP = input.hostIP ?? '172.18.0.2';
  const container = (c: FakeContainer): IContainer => ({
    name: c.name,
    image: imageOf(c),
    imagePullPolicy: 'IfNotPresent',
    resources: {},
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    volumeMounts: [{ name: 'kube-api-access-x2v9q', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
  });
  const pod: IPod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      uid: input.uid ?? randomUUID(),
      creationTimestamp: created,
      labels: input.labels,
      annotations: input.annotations,
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          time: created,
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:metadata': { 'f:labels': {} }, 'f:spec': { 'f:containers': {} } },
        },
        {
          manager: 'kubelet',
          operation: 'Update',
          apiVersion: 'v1',
          time: created,
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:status': { 'f:conditions': {}, 'f:containerStatuses': {} } },
          subresource: 'status',
        },
      ],
    },
    spec: {
      containers: input.containers.map(container),
      restartPolicy: input.owner?.kind === 'Job' ? 'Never' : 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      nodeName: input.nodeName === '' ? undefined : input.nodeName,
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
      volumes: [
        { name: 'kube-api-access-x2v9q', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }] } },
      ],
    },
    status: {
      phase,
      conditions: [
        { type: 'PodScheduled', status: 'True', lastProbeTime: null as unknown as string, lastTransitionTime: created },
        { type: 'Ready', status: running ? 'True' : 'False', lastProbeTime: null as unknown as string, lastTransitionTime: created },
      ],
      hostIP,
      hostIPs: [{ ip: hostIP }],
      podIP: running ? podIP : undefined,
      podIPs: running ? [{ ip: podIP }] : undefined,
      startTime: created,
      containerStatuses: input.containers.map((c) => status(c, running, created)),
      qosClass: 'BestEffort',
    },
  };
  if (input.initContainers) {
    pod.spec!.initContainers = input.initContainers.map(container);
    pod.status!.initContainerStatuses = input.initContainers.map((c) => status(c, running, created));
  }
  if (input.owner) {
    pod.metadata!.ownerReferences = [
      {
        apiVersion: input.owner.apiVersion ?? OWNER_API[input.owner.kind] ?? 'v1',
        kind: input.owner.kind,
        name: input.owner.name,
        uid: randomUUID(),
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
  }
  if (input.labels === undefined) delete pod.metadata!.labels;
  if (input.annotations === undefined) delete pod.metadata!.annotations;
  return JSON.parse(JSON.stringify(pod)) as IPod;
}

function randomSuffix(length: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let out = '';
  for (const byte of randomBytes(length)) out += alphabet[byte % alphabet.length];
  return out;
}

/** A pod as a Deployment creates it: owned by ReplicaSet `<deployment>-<hash>`, label pod-template-hash. */
export function deploymentPod(input: Omit<FakePodInput, 'owner' | 'name'> & { deployment: string; hash?: string; name?: string }): IPod {
  const hash = input.hash ?? '7d4b9c8f6d';
  const replicaSet = `${input.deployment}-${hash}`;
  return makePod({
    ...input,
    name: input.name ?? `${replicaSet}-${randomSuffix(5)}`,
    labels: { ...input.labels, 'pod-template-hash': hash },
    owner: { kind: 'ReplicaSet', name: replicaSet },
  });
}

/** A pod of a Job a CronJob created: job `<cronjob>-<minutes since epoch>`. */
export function cronJobPod(input: Omit<FakePodInput, 'owner' | 'name'> & { cronjob: string; scheduledMs?: number }): IPod {
  const job = `${input.cronjob}-${Math.floor((input.scheduledMs ?? Date.now()) / 60_000)}`;
  return makePod({
    ...input,
    name: `${job}-${randomSuffix(5)}`,
    labels: { ...input.labels, 'job-name': job, 'batch.kubernetes.io/job-name': job },
    owner: { kind: 'Job', name: job },
  });
}

/** Real clusters (1.21+) label every namespace with kubernetes.io/metadata.name. */
export function makeNamespace(name: string, labels: Record<string, string> = {}): INamespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      uid: randomUUID(),
      creationTimestamp: timestamp(),
      labels: { 'kubernetes.io/metadata.name': name, ...labels },
      managedFields: [
        {
          manager: 'kubectl-create',
          operation: 'Update',
          apiVersion: 'v1',
          time: timestamp(),
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:metadata': { 'f:labels': {} } },
        },
      ],
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}
