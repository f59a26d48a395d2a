/**
 * `logferry inject`: add the logferry sidecar to workloads in Kubernetes YAML, like `istioctl kube-inject`.
 * The app's log directory becomes a shared emptyDir, the sidecar reads it read-only, and the pod's
 * identity reaches the sidecar through the Downward API. Edits go through yaml's Document model so
 * comments, key order and other documents stay as they were; injecting twice changes nothing.
 */
import { dirname } from 'node:path';
import { parseAllDocuments, type Document } from 'yaml';
import { UsageError } from '../cli/errors.js';
import { DEFAULT_IMAGE, NODE_OPTIONS } from './objects.js';

export interface InjectOptions {
  /** globs of the application's log files, all in one directory (e.g. /var/log/app/*.log) */
  paths: string[];
  image?: string;
  esHost?: string;
  esPort?: number;
  esScheme?: 'http' | 'https';
  esSecret?: string;
  /** the application container that writes the files (default: the first container) */
  container?: string;
}

export const SIDECAR_NAME = 'logferry';
const LOGS_VOLUME = 'logferry-logs';
const STATE_VOLUME = 'logferry-state';
const PODINFO_VOLUME = 'logferry-podinfo';
const STATE_DIR = '/var/lib/logferry';
const PODINFO_DIR = '/etc/podinfo';

/** Where the pod spec sits in each kind that has one. */
const POD_SPEC_PATH: Record<string, string[]> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

/** Kinds without pods that commonly share a file with workloads: passed through untouched. */
const PASS_THROUGH = new Set([
  'Service', 'ConfigMap', 'Secret', 'ServiceAccount', 'Ingress', 'PersistentVolumeClaim', 'Namespace', 'Role', 'RoleBinding',
  'ClusterRole', 'ClusterRoleBinding', 'NetworkPolicy', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'List',
]);

export function logDirectory(paths: string[]): string {
  if (paths.length === 0) throw new UsageError('--path: give the application log files, e.g. --path "/var/log/app/*.log"');
  const dirs = new Set(paths.map((p) => {
    if (!p.startsWith('/')) throw new UsageError(`--path: must be absolute (got ${JSON.stringify(p)})`);
    const dir = dirname(p);
    if (/[*?]/.test(dir)) throw new UsageError(`--path: wildcards only in the file name, not the directory (got ${JSON.stringify(p)})`);
    return dir;
  }));
  if (dirs.size > 1) throw new UsageError(`--path: all paths must be in one directory (got ${[...dirs].join(', ')})`);
  return [...dirs][0];
}

function sidecar(options: InjectOptions, appContainer: string, logDir: string): Record<string, unknown> {
  const env: Record<string, unknown>[] = [
    { name: 'LOGFERRY_PATHS', value: options.paths.join(',') },
    { name: 'LOGFERRY_APP_CONTAINER', value: appContainer },
    { name: 'LOGFERRY_PODINFO_LABELS', value: `${PODINFO_DIR}/labels` },
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
    { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    { name: 'NODE_OPTIONS', value: NODE_OPTIONS },
  ];
  if (options.esHost !== undefined) {
    env.push({ name: 'ELASTICSEARCH_HOST', value: options.esHost }, { name: 'ELASTICSEARCH_PORT', value: String(options.esPort ?? 9200) }, { name: 'ELASTICSEARCH_SCHEME', value: options.esScheme ?? 'http' });
  }
  return {
    name: SIDECAR_NAME,
    image: options.image ?? DEFAULT_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    args: ['run', '--profile', 'sidecar', '--data-dir', STATE_DIR],
    env,
    ...(options.esSecret !== undefined ? { envFrom: [{ secretRef: { name: options.esSecret } }] } : {}),
    resources: { requests: { cpu: '20m', memory: '64Mi' }, limits: { cpu: '200m', memory: '160Mi' } },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 1000,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      { name: LOGS_VOLUME, mountPath: logDir, readOnly: true },
      { name: STATE_VOLUME, mountPath: STATE_DIR },
      { name: PODINFO_VOLUME, mountPath: PODINFO_DIR, readOnly: true },
    ],
  };
}

/** Append to a sequence, creating it when the document has none (addIn alone would make a map). */
function append(doc: Document, path: Array<string | number>, item: Record<string, unknown>): void {
  if (doc.hasIn(path)) doc.addIn(path, doc.createNode(item));
  else doc.setIn(path, doc.createNode([item]));
}

function injectDocument(doc: Document, index: number, options: InjectOptions, logDir: string): void {
  const where = `document ${index + 1}`;
  const value = doc.toJS() as Record<string, any> | null;
  if (value === null || typeof value !== 'object') return;
  const kind = String(value.kind ?? '');
  const specPath = POD_SPEC_PATH[kind];
  if (specPath === undefined) {
    if (PASS_THROUGH.has(kind)) return;
    throw new UsageError(`${where}: kind ${JSON.stringify(kind || '(none)')} is not supported (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod)`);
  }
  let spec: Record<string, any> = value;
  for (const key of specPath) spec = spec?.[key];
  const containers = spec?.containers as Array<Record<string, any>> | undefined;
  if (!Array.isArray(containers) || containers.length === 0) throw new UsageError(`${where}: ${kind} has no containers at ${specPath.join('.')}.containers`);
  if (containers.some((c) => c.name === SIDECAR_NAME)) return; // already injected
  const appIndex = options.container === undefined ? 0 : containers.findIndex((c) => c.name === options.container);
  if (appIndex < 0) throw new UsageError(`${where}: no container named ${JSON.stringify(options.container)} in ${kind} ${value.metadata?.name ?? ''}`);
  const app = containers[appIndex];
  const mounts = (app.volumeMounts ?? []) as Array<Record<string, any>>;
  const clash = mounts.find((m) => m.mountPath === logDir);
  const sharedVolume = clash?.name ?? LOGS_VOLUME;
  if (clash === undefined) append(doc, [...specPath, 'containers', appIndex, 'volumeMounts'], { name: LOGS_VOLUME, mountPath: logDir });
  const side = sidecar(options, String(app.name), logDir);
  (side.volumeMounts as Array<Record<string, unknown>>)[0].name = sharedVolume;
  append(doc, [...specPath, 'containers'], side);
  const volumes = (spec.volumes ?? []) as Array<Record<string, any>>;
  const add = (volume: Record<string, unknown>) => {
    if (!volumes.some((v) => v.name === volume.name)) append(doc, [...specPath, 'volumes'], volume);
  };
  if (clash === undefined) add({ name: LOGS_VOLUME, emptyDir: {} });
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
  docs.forEach((doc, index) => injectDocument(doc, index, options, logDir));
  return docs
    .map((doc, index) => {
      // Every document after the first starts with its own `---`, whether the input had one or not.
      if (index > 0 && doc.directives) doc.directives.docStart = true;
      return doc.toString({ lineWidth: 0 });
    })
    .join('');
}
