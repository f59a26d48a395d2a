/**
 * `logferry inject`: add the logferry sidecar to workloads in Kubernetes YAML, like `istioctl kube-inject`.
 * The app's log directory becomes a shared emptyDir, the sidecar reads it read-only, and the pod's
 * identity reaches the sidecar through the Downward API. Edits go through yaml's Document model so
 * comments, key order and other documents stay as they were; injecting twice changes nothing.
 *
 * The sidecar is a native sidecar by default (an init container with `restartPolicy: Always`, Kubernetes
 * 1.29+): it starts before the app and is stopped after it, so the app's last lines are shipped, and a Job
 * or CronJob still completes — a sidecar among the ordinary containers would keep such a pod running.
 */
import { posix } from 'node:path';
import { parseAllDocuments, type Document } from 'yaml';
import { UsageError } from '../cli/errors.js';
import { DATA_DIR, DEFAULT_IMAGE, defaultScheme, IMAGE_USER, SIDECAR_NODE_OPTIONS } from './objects.js';
import { mountProblem } from './mount-paths.js';
import type { JsonObject } from '../core/json.js';

export interface InjectOptions {
  /** globs of the application's log files, all in one directory (e.g. /var/log/app/*.log) */
  paths: string[];
  image?: string;
  esHost?: string;
  esPort?: number;
  esScheme?: 'http' | 'https';
  /** Secret whose keys become the sidecar's env (ELASTICSEARCH_HOSTS, credentials) */
  esSecret?: string;
  /** the application container that writes the files (default: the first container) */
  container?: string;
  /** put the sidecar among the ordinary containers (clusters before 1.29); refused for run-to-completion pods */
  classicSidecar?: boolean;
}

export const SIDECAR_NAME = 'logferry';
export const LOGS_VOLUME = 'logferry-logs';
export const STATE_VOLUME = 'logferry-state';
export const PODINFO_VOLUME = 'logferry-podinfo';
export const PODINFO_DIR = '/etc/podinfo';

type Path = Array<string | number>;

/** Where the pod spec sits in each kind that has one. */
const POD_SPEC_PATH: Record<string, Path> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

/** Kinds without pods that commonly share a file with workloads: passed through untouched. */
const PASS_THROUGH = new Set([
  'Service',
  'ConfigMap',
  'Secret',
  'ServiceAccount',
  'Ingress',
  'IngressClass',
  'PersistentVolumeClaim',
  'PersistentVolume',
  'Namespace',
  'Role',
  'RoleBinding',
  'ClusterRole',
  'ClusterRoleBinding',
  'NetworkPolicy',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
  'LimitRange',
  'ResourceQuota',
  'PriorityClass',
  'StorageClass',
  'Endpoints',
  'EndpointSlice',
]);

/** `--path` as Kubernetes will mount it: absolute, no `.`/`..` segments, no doubled or trailing slashes. */
export function normalizeLogPath(path: string): string {
  if (!path.startsWith('/')) throw new UsageError(`--path: must be absolute (got ${JSON.stringify(path)})`);
  const normal = posix.normalize(path);
  if (normal.endsWith('/'))
    throw new UsageError(
      `--path: give the files, not a directory: add a file name or pattern, e.g. ${JSON.stringify(normal + '*.log')} (got ${JSON.stringify(path)})`,
    );
  return normal;
}

export function logDirectory(paths: string[]): string {
  if (paths.length === 0) throw new UsageError('--path: give the application log files, e.g. --path "/var/log/app/*.log"');
  const dirs = new Set(
    paths.map((p) => {
      const path = normalizeLogPath(p);
      const dir = posix.dirname(path);
      if (/[*?[\]{}]/.test(dir)) throw new UsageError(`--path: wildcards only in the file name, not the directory (got ${JSON.stringify(p)})`);
      if (dir === '/') throw new UsageError(`--path: the files need a directory of their own to share, not / (got ${JSON.stringify(p)})`);
      const problem = mountProblem(dir);
      if (problem !== undefined)
        throw new UsageError(`--path: ${dir} ${problem}; write the logs to a directory of their own, e.g. /var/log/app (got ${JSON.stringify(p)})`);
      return dir;
    }),
  );
  if (dirs.size > 1) throw new UsageError(`--path: all paths must be in one directory (got ${[...dirs].join(', ')})`);
  return [...dirs][0];
}

export function sidecarContainer(options: InjectOptions, appContainer: string, logVolume: string, logDir: string): Record<string, unknown> {
  const env: Record<string, unknown>[] = [
    { name: 'LOGFERRY_PATHS', value: options.paths.map(normalizeLogPath).join(',') },
    { name: 'LOGFERRY_APP_CONTAINER', value: appContainer },
    { name: 'LOGFERRY_PODINFO_LABELS', value: `${PODINFO_DIR}/labels` },
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
    { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    { name: 'NODE_OPTIONS', value: SIDECAR_NODE_OPTIONS },
  ];
  if (options.esHost !== undefined) {
    env.push(
      { name: 'ELASTICSEARCH_HOST', value: options.esHost },
      { name: 'ELASTICSEARCH_PORT', value: String(options.esPort ?? 9200) },
      { name: 'ELASTICSEARCH_SCHEME', value: defaultScheme(options) },
    );
  }
  return {
    name: SIDECAR_NAME,
    image: options.image ?? DEFAULT_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    ...(options.classicSidecar ? {} : { restartPolicy: 'Always' }),
    args: ['run', '--profile', 'sidecar', '--data-dir', DATA_DIR],
    env,
    // Not optional: a Secret that is missing should stop the pod visibly, not ship logs nowhere.
    ...(options.esSecret !== undefined ? { envFrom: [{ secretRef: { name: options.esSecret } }] } : {}),
    resources: { requests: { cpu: '20m', memory: '64Mi' }, limits: { cpu: '200m', memory: '160Mi' } },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: IMAGE_USER,
      runAsGroup: IMAGE_USER,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [
      { name: logVolume, mountPath: logDir, readOnly: true },
      { name: STATE_VOLUME, mountPath: DATA_DIR },
      { name: PODINFO_VOLUME, mountPath: PODINFO_DIR, readOnly: true },
    ],
  };
}

/** Append to a sequence, creating it when the document has none (addIn alone would make a map). */
function append(doc: Document, path: Path, item: Record<string, unknown>): void {
  if (doc.hasIn(path) && doc.getIn(path) !== null) doc.addIn(path, doc.createNode(item));
  else doc.setIn(path, doc.createNode([item]));
}

function at(value: unknown, path: Path): unknown {
  let out = value as JsonObject | undefined;
  for (const key of path) out = out?.[key] as JsonObject | undefined;
  return out;
}

/** One workload (a document, or an item of a List) whose object is at `base` in `doc`. */
function injectObject(doc: Document, base: Path, object: JsonObject, where: string, options: InjectOptions, logDir: string): void {
  const kind = typeof object.kind === 'string' ? object.kind : '';
  if (kind === 'List' && base.length === 0) {
    const items = Array.isArray(object.items) ? object.items : [];
    items.forEach((item: unknown, i: number) => {
      if (item !== null && typeof item === 'object') injectObject(doc, ['items', i], item, `${where}, items[${i}]`, options, logDir);
    });
    return;
  }
  const specPath = POD_SPEC_PATH[kind];
  if (specPath === undefined) {
    if (PASS_THROUGH.has(kind)) return;
    const supported = Object.keys(POD_SPEC_PATH).join(', ');
    throw new UsageError(
      `${where}: kind ${JSON.stringify(kind || '(none)')} is not supported (workloads: ${supported}; passed through: ${[...PASS_THROUGH].join(', ')})`,
    );
  }
  const name = object.metadata?.name ?? '(unnamed)';
  const spec = at(object, specPath) as JsonObject | undefined;
  const containers = spec?.containers as JsonObject[] | undefined;
  if (!Array.isArray(containers) || containers.length === 0)
    throw new UsageError(`${where}: ${kind} ${name} has no containers at ${specPath.join('.')}.containers`);
  const initContainers = (Array.isArray(spec!.initContainers) ? spec!.initContainers : []) as JsonObject[];
  if ([...containers, ...initContainers].some((c) => c?.name === SIDECAR_NAME)) return; // already injected
  if (options.classicSidecar) {
    const restartPolicy = spec!.restartPolicy ?? (kind === 'Job' || kind === 'CronJob' ? 'Never' : 'Always');
    if (restartPolicy !== 'Always') {
      throw new UsageError(
        `${where}: ${kind} ${name} runs to completion (restartPolicy ${restartPolicy}); a classic sidecar would keep it running forever: drop --classic-sidecar (native sidecars need Kubernetes 1.29+)`,
      );
    }
  }
  const appIndex = options.container === undefined ? 0 : containers.findIndex((c) => c?.name === options.container);
  if (appIndex < 0)
    throw new UsageError(
      `${where}: no container named ${JSON.stringify(options.container)} in ${kind} ${name} (has ${containers.map((c) => c?.name).join(', ')})`,
    );
  const podPath = [...base, ...specPath];
  const app = containers[appIndex];
  const mounts = (Array.isArray(app.volumeMounts) ? app.volumeMounts : []) as JsonObject[];
  // The app may already have a volume at that directory: share it rather than hide it.
  const existing = mounts.find((m) => m?.mountPath === logDir);
  const logVolume = typeof existing?.name === 'string' ? existing.name : LOGS_VOLUME;
  if (existing === undefined) append(doc, [...podPath, 'containers', appIndex, 'volumeMounts'], { name: LOGS_VOLUME, mountPath: logDir });
  const side = sidecarContainer(options, String(app.name), logVolume, logDir);
  append(doc, [...podPath, options.classicSidecar ? 'containers' : 'initContainers'], side);
  const volumes = (Array.isArray(spec!.volumes) ? spec!.volumes : []) as JsonObject[];
  const add = (volume: Record<string, unknown>) => {
    if (!volumes.some((v) => v?.name === volume.name)) append(doc, [...podPath, 'volumes'], volume);
  };
  if (existing === undefined) add({ name: LOGS_VOLUME, emptyDir: {} });
  add({ name: STATE_VOLUME, emptyDir: {} });
  add({ name: PODINFO_VOLUME, downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } });
}

export function inject(text: string, options: InjectOptions): string {
  const logDir = logDirectory(options.paths);
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new UsageError('input: not YAML documents');
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) throw new UsageError(`document ${index + 1}: not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  });
  docs.forEach((doc, index) => {
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) return; // an empty document, e.g. a trailing ---
    if (typeof value !== 'object' || Array.isArray(value))
      throw new UsageError(`document ${index + 1}: not a Kubernetes object (a ${Array.isArray(value) ? 'list' : typeof value})`);
    injectObject(doc, [], value, `document ${index + 1}`, options, logDir);
  });
  return docs
    .map((doc, index) => {
      // Every document after the first starts with its own `---`, whether the input had one or not.
      if (index > 0 && doc.directives) doc.directives.docStart = true;
      return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
    })
    .join('');
}
