/**
 * From a Pod object to what records carry: the facts worth keeping (trimmed — no managedFields, no spec
 * beyond names and images), the owning workload, per-container {@link Metadata} serialised once, and the
 * logferry.io/* annotations users set to steer their pod's logs.
 */
import { dedot, makeMetadata } from '../event/metadata.js';
import type { Metadata } from '../event/record.js';
import type { ContainerSpec, ContainerStatus, KubePod } from './objects.js';

export type MessageParser = 'json' | 'logfmt' | 'none';

/** How a container's logs are to be handled, from the pod's logferry.io/* annotations. */
export interface PodLogOptions {
  /** `logferry.io/exclude: "true"` or the container is named in `logferry.io/exclude-containers` */
  exclude: boolean;
  /** `logferry.io/parser` */
  parser?: MessageParser;
  /** `logferry.io/multiline`: auto | java | python | go | nodejs | off | a regular expression for the first line */
  multiline?: string;
}

export const ANNOTATION = {
  exclude: 'logferry.io/exclude',
  excludeContainers: 'logferry.io/exclude-containers',
  parser: 'logferry.io/parser',
  multiline: 'logferry.io/multiline',
} as const;

const MULTILINE_PRESETS = new Set(['auto', 'java', 'python', 'go', 'nodejs', 'off', 'none']);
const PARSERS = new Set<string>(['json', 'logfmt', 'none']);

export interface OwnerNames {
  replicaset?: string;
  deployment?: string;
  statefulset?: string;
  daemonset?: string;
  job?: string;
  cronjob?: string;
}

export interface ContainerFacts {
  image?: string;
  id?: string;
  runtime?: string;
}

/** A pod reduced to what metadata needs: ~1 KB instead of the API object's 5–20 KB. */
export interface PodFacts {
  namespace: string;
  name: string;
  uid: string;
  /** static pods: the uid the kubelet uses on disk (`kubernetes.io/config.mirror`), not the mirror pod's */
  mirrorUid?: string;
  ip?: string;
  nodeName?: string;
  /** dedotted keys */
  labels?: Record<string, string>;
  /** allow-listed annotations, dedotted keys */
  annotations?: Record<string, string>;
  owner: OwnerNames;
  containers: Map<string, ContainerFacts>;
  exclude: boolean;
  excludeContainers?: ReadonlySet<string>;
  parser?: MessageParser;
  multiline?: string;
  /** annotation problems worth one log line (not per record) */
  invalid?: string[];
}

/** Matches annotation keys against an allow-list of exact keys and `prefix*` patterns. */
export function annotationMatcher(allow: readonly string[]): (key: string) => boolean {
  const exact = new Set(allow.filter((k) => !k.endsWith('*')));
  const prefixes = allow.filter((k) => k.endsWith('*')).map((k) => k.slice(0, -1));
  if (exact.size === 0 && prefixes.length === 0) return () => false;
  return (key) => exact.has(key) || prefixes.some((p) => key.startsWith(p));
}

/**
 * The workload owning a pod, from its controller ownerReference. Deployments own pods through a
 * ReplicaSet named `<deployment>-<pod-template-hash>`; the suffix is only stripped when it equals the
 * pod's `pod-template-hash` label, so a hand-made ReplicaSet named `api-v2` is not reported as `api`.
 * CronJobs name their Jobs `<cronjob>-<scheduled time in minutes since the epoch>`: 8+ digits until the
 * 22nd century, which tells them apart from a hand-made Job called `migrate-2`.
 */
export function resolveOwner(pod: KubePod): OwnerNames {
  const refs = pod.metadata?.ownerReferences;
  if (!Array.isArray(refs) || refs.length === 0) return {};
  const ref = refs.find((r) => r?.controller === true) ?? refs[0];
  const name = ref?.name;
  if (typeof name !== 'string' || name === '') return {};
  switch (ref.kind) {
    case 'ReplicaSet': {
      const hash = pod.metadata?.labels?.['pod-template-hash'];
      if (typeof hash === 'string' && hash !== '' && name.length > hash.length + 1 && name.endsWith('-' + hash)) {
        return { replicaset: name, deployment: name.slice(0, -(hash.length + 1)) };
      }
      return { replicaset: name };
    }
    case 'StatefulSet':
      return { statefulset: name };
    case 'DaemonSet':
      return { daemonset: name };
    case 'Job': {
      const match = /^(.+)-(\d{8,})$/.exec(name);
      return match ? { job: name, cronjob: match[1] } : { job: name };
    }
    default:
      return {};
  }
}

/** `containerd://abc…` → `{ runtime: 'containerd', id: 'abc…' }` */
export function splitContainerId(value: string | undefined): { id?: string; runtime?: string } {
  if (typeof value !== 'string' || value === '') return {};
  const sep = value.indexOf('://');
  return sep < 0 ? { id: value } : { id: value.slice(sep + 3), runtime: value.slice(0, sep) };
}

function dedotted(source: Record<string, string> | undefined, keep?: (key: string) => boolean): Record<string, string> | undefined {
  if (source === null || typeof source !== 'object') return undefined;
  let out: Record<string, string> | undefined;
  for (const key of Object.keys(source).sort()) {
    if (keep !== undefined && !keep(key)) continue;
    const value = source[key];
    if (typeof value !== 'string') continue;
    (out ??= {})[dedot(key)] = value;
  }
  return out;
}

function addContainers(out: Map<string, ContainerFacts>, specs: ContainerSpec[] | undefined, statuses: ContainerStatus[] | undefined): void {
  if (Array.isArray(specs)) {
    for (const spec of specs) if (typeof spec?.name === 'string') out.set(spec.name, { image: typeof spec.image === 'string' ? spec.image : undefined });
  }
  if (Array.isArray(statuses)) {
    for (const status of statuses) {
      if (typeof status?.name !== 'string') continue;
      const facts = out.get(status.name) ?? {};
      const { id, runtime } = splitContainerId(status.containerID);
      out.set(status.name, { image: facts.image ?? (typeof status.image === 'string' ? status.image : undefined), id, runtime });
    }
  }
}

function readOptions(annotations: Record<string, string> | undefined, facts: PodFacts): void {
  if (annotations === null || typeof annotations !== 'object') return;
  const invalid: string[] = [];
  const exclude = annotations[ANNOTATION.exclude];
  if (typeof exclude === 'string') {
    const value = exclude.trim().toLowerCase();
    if (value === 'true') facts.exclude = true;
    else if (value !== 'false' && value !== '') invalid.push(`${ANNOTATION.exclude}: expected "true" or "false", got ${JSON.stringify(exclude)}`);
  }
  const containers = annotations[ANNOTATION.excludeContainers];
  if (typeof containers === 'string') {
    const names = containers
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    if (names.length > 0) facts.excludeContainers = new Set(names);
  }
  const parser = annotations[ANNOTATION.parser];
  if (typeof parser === 'string') {
    const value = parser.trim().toLowerCase();
    if (PARSERS.has(value)) facts.parser = value as MessageParser;
    else invalid.push(`${ANNOTATION.parser}: expected json, logfmt or none, got ${JSON.stringify(parser)}`);
  }
  const multiline = annotations[ANNOTATION.multiline];
  if (typeof multiline === 'string' && multiline.trim() !== '') {
    const value = multiline.trim();
    if (MULTILINE_PRESETS.has(value.toLowerCase())) facts.multiline = value.toLowerCase();
    else {
      try {
        new RegExp(value);
        facts.multiline = value;
      } catch (error) {
        invalid.push(`${ANNOTATION.multiline}: not auto|java|python|go|nodejs|off nor a valid regular expression (${(error as Error).message})`);
      }
    }
  }
  if (invalid.length > 0) facts.invalid = invalid;
}

/** The facts of a pod, or undefined if it lacks a namespace or name. */
export function podFacts(pod: KubePod, keepAnnotation: (key: string) => boolean): PodFacts | undefined {
  const meta = pod?.metadata;
  if (typeof meta?.name !== 'string' || typeof meta.namespace !== 'string') return undefined;
  const containers = new Map<string, ContainerFacts>();
  addContainers(containers, pod.spec?.initContainers, pod.status?.initContainerStatuses);
  addContainers(containers, pod.spec?.containers, pod.status?.containerStatuses);
  addContainers(containers, pod.spec?.ephemeralContainers, pod.status?.ephemeralContainerStatuses);
  const facts: PodFacts = {
    namespace: meta.namespace,
    name: meta.name,
    uid: typeof meta.uid === 'string' && meta.uid !== '' ? meta.uid : `${meta.namespace}/${meta.name}`,
    ip: typeof pod.status?.podIP === 'string' && pod.status.podIP !== '' ? pod.status.podIP : undefined,
    nodeName: typeof pod.spec?.nodeName === 'string' && pod.spec.nodeName !== '' ? pod.spec.nodeName : undefined,
    labels: dedotted(meta.labels),
    annotations: dedotted(meta.annotations, keepAnnotation),
    owner: resolveOwner(pod),
    containers,
    exclude: false,
  };
  const mirror = meta.annotations?.['kubernetes.io/config.mirror'];
  if (typeof mirror === 'string' && mirror !== '') facts.mirrorUid = mirror;
  readOptions(meta.annotations, facts);
  return facts;
}

export function containerOptions(facts: PodFacts, container: string): PodLogOptions {
  const options: PodLogOptions = { exclude: facts.exclude || (facts.excludeContainers?.has(container) ?? false) };
  if (facts.parser !== undefined) options.parser = facts.parser;
  if (facts.multiline !== undefined) options.multiline = facts.multiline;
  return options;
}

/** Dedotted namespace labels, or undefined for none. */
export function namespaceLabels(labels: Record<string, string> | undefined): Record<string, string> | undefined {
  return dedotted(labels);
}

/**
 * The Metadata of one container of a pod: the ECS fragment built and serialised here, once per pod (or
 * namespace) change. `containerId` overrides the API's id: a file written by an earlier instance of the
 * container (before a restart) names that instance's id, and its lines belong to it.
 */
export function containerMetadata(
  facts: PodFacts,
  container: string,
  nsLabels: Record<string, string> | undefined,
  agentNode: string,
  containerId?: string,
): Metadata {
  const c = facts.containers.get(container);
  const nodeName = facts.nodeName ?? agentNode;
  const kubernetes: Record<string, unknown> = { namespace: facts.namespace };
  if (nsLabels !== undefined) kubernetes.namespace_labels = nsLabels;
  const pod: Record<string, string> = { name: facts.name, uid: facts.uid };
  if (facts.ip !== undefined) pod.ip = facts.ip;
  kubernetes.pod = pod;
  if (facts.labels !== undefined) kubernetes.labels = facts.labels;
  if (facts.annotations !== undefined) kubernetes.annotations = facts.annotations;
  const owner = facts.owner;
  if (owner.replicaset !== undefined) kubernetes.replicaset = { name: owner.replicaset };
  if (owner.deployment !== undefined) kubernetes.deployment = { name: owner.deployment };
  if (owner.statefulset !== undefined) kubernetes.statefulset = { name: owner.statefulset };
  if (owner.daemonset !== undefined) kubernetes.daemonset = { name: owner.daemonset };
  if (owner.job !== undefined) kubernetes.job = { name: owner.job };
  if (owner.cronjob !== undefined) kubernetes.cronjob = { name: owner.cronjob };
  kubernetes.container = { name: container };
  kubernetes.node = { name: nodeName };
  const id = containerId ?? c?.id;
  const containerDoc: Record<string, unknown> = {};
  if (id !== undefined) containerDoc.id = id;
  if (c?.runtime !== undefined) containerDoc.runtime = c.runtime;
  if (c?.image !== undefined) containerDoc.image = { name: c.image };
  const document: Record<string, unknown> = { kubernetes };
  if (Object.keys(containerDoc).length > 0) document.container = containerDoc;
  document.host = { name: nodeName };
  return makeMetadata(
    {
      namespace: facts.namespace,
      podName: facts.name,
      podUid: facts.uid,
      containerName: container,
      containerId: id,
      nodeName,
      hostName: nodeName,
      labels: facts.labels,
    },
    document,
  );
}
