/**
 * The Kubernetes objects of a logferry node-agent install — the one source of truth: `logferry manifests`
 * prints them, the kustomize base under deploy/kubernetes/ is generated from them, and the Helm chart is
 * tested to render the same objects.
 *
 * Permissions, least privilege that works: the agent must read root-owned files (some 0640, some owned by
 * other users) under /var/log and write checkpoints to a root-owned hostPath. A non-root uid given
 * CAP_DAC_READ_SEARCH through `capabilities.add` does not get it in its effective set (the kernel clears
 * effective capabilities on exec for a non-root uid unless the binary carries file capabilities, and
 * those need allowPrivilegeEscalation; a hostPath also ignores fsGroup, so the checkpoint directory would
 * need a chown'ing init container running as root anyway). So the DaemonSet runs as uid 0 with every
 * capability dropped but DAC_READ_SEARCH (read any file, write only what root owns — the checkpoint
 * directory — and no chown, no setuid, no raw sockets), no privilege escalation, seccomp RuntimeDefault,
 * a read-only root filesystem and /var/log mounted read-only. The image's default user is the unprivileged
 * IMAGE_USER, which the sidecar (reading world-readable files on an emptyDir) runs as.
 */
import { stringify } from 'yaml';
import type { JsonObject } from '../core/json.js';

export const AGENT_PORT = 2020;
export const PORT_NAME = 'http-metrics';
export const CONFIG_DIR = '/etc/logferry';
export const CONFIG_PATH = `${CONFIG_DIR}/logferry.yaml`;
export const DATA_DIR = '/var/lib/logferry';
/** The non-root user of the image (deploy/docker/Dockerfile `USER`), used by sidecars. */
export const IMAGE_USER = 10001;
export const DEFAULT_IMAGE = 'ghcr.io/logferry/logferry:0.1.0';
export const DEFAULT_NODE_SELECTOR: Record<string, string> = { 'logferry.io/enabled': 'true' };
export const SEED_NODE_SELECTOR: Record<string, string> = { 'beta.kubernetes.io/fluentd-ds-ready': 'true' };
/**
 * Every taint tolerated: the node label is the opt-in, so a node someone labelled is covered whatever its
 * taints — control-plane nodes (where kube-apiserver, controller-manager and scheduler log), GPU or
 * dedicated pools, and nodes being drained (their last logs still matter).
 */
export const DEFAULT_TOLERATIONS: KubeObject[] = [{ operator: 'Exists' }];
/** The heap cap the benchmarks ran with: live data is bounded by the in-flight budget. */
export const NODE_OPTIONS = '--max-old-space-size=96';
/**
 * The sidecar's: a young generation of 1 MB semi-spaces instead of V8's default 16 MB, because an app's
 * log files are a trickle next to a node's and a sidecar runs in every pod. It lowers the start-up peak
 * (measured 60 → 56 MiB); once settled an idle sidecar is at 54-55 MiB either way.
 */
export const SIDECAR_NODE_OPTIONS = `${NODE_OPTIONS} --max-semi-space-size=1`;
/** Placeholder of the kustomize base, for an overlay to replace. */
export const PLACEHOLDER_ES_HOST = 'elasticsearch.example.com';
/**
 * From `npm run bench` (README): 130-186 MB peak RSS at full speed with the heap capped at 96 MB; the
 * limit leaves room above that rather than OOM-killing a log agent in a burst.
 */
export const DEFAULT_RESOURCES = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '320Mi' } };

export interface ManifestOptions {
  namespace?: string;
  image?: string;
  /** ELASTICSEARCH_HOST; omitted with esSecret alone (the Secret then holds ELASTICSEARCH_HOSTS) */
  esHost?: string;
  esPort?: number;
  esScheme?: 'http' | 'https';
  /** Secret whose keys become env: ELASTICSEARCH_USERNAME / _PASSWORD, _API_KEY, _HOSTS, ... */
  esSecret?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: KubeObject[];
  /** enable the journald input on /var/log/journal */
  journald?: boolean;
}

export type KubeObject = JsonObject;

export const NAME = 'logferry';

export function labels(): Record<string, string> {
  return { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/instance': NAME };
}

/**
 * The agent's configuration file in the ConfigMap: the HTTP endpoint on all addresses (probes come from
 * the kubelet, not localhost), the inputs; Elasticsearch comes from the environment.
 */
export function agentConfig(options: Pick<ManifestOptions, 'journald'> = {}): KubeObject {
  const inputs: KubeObject = { containers: { readFrom: 'beginning' } };
  // --directory: the host's journal, not the container's (its machine-id differs); /var/log is mounted.
  if (options.journald) inputs.journald = { enabled: true, directory: '/var/log/journal' };
  return { server: { address: `0.0.0.0:${AGENT_PORT}` }, inputs };
}

/**
 * Credentials from a Secret mean https unless asked otherwise: the agent refuses to send them over plain
 * http to another machine, so the easy path is the secure one. Without credentials, http (a plain
 * Elasticsearch, as the fluentd-elasticsearch image used).
 */
export function defaultScheme(options: Pick<ManifestOptions, 'esScheme' | 'esSecret'>): 'http' | 'https' {
  return options.esScheme ?? (options.esSecret !== undefined ? 'https' : 'http');
}

function esEnv(options: ManifestOptions): KubeObject[] {
  if (options.esHost === undefined && options.esSecret !== undefined) return [];
  return [
    { name: 'ELASTICSEARCH_HOST', value: options.esHost ?? PLACEHOLDER_ES_HOST },
    { name: 'ELASTICSEARCH_PORT', value: String(options.esPort ?? 9200) },
    { name: 'ELASTICSEARCH_SCHEME', value: defaultScheme(options) },
  ];
}

function agentContainer(options: ManifestOptions): KubeObject {
  return {
    name: NAME,
    image: options.image ?? DEFAULT_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    // args, not command: the image's ENTRYPOINT (tini -- node /app/bin/logferry.js) stays in charge.
    args: ['run', '--config', CONFIG_PATH, '--data-dir', DATA_DIR],
    env: [
      { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      ...esEnv(options),
      { name: 'LOGFERRY_CONFIG', value: CONFIG_PATH },
      { name: 'NODE_OPTIONS', value: NODE_OPTIONS },
    ],
    ...(options.esSecret !== undefined ? { envFrom: [{ secretRef: { name: options.esSecret, optional: true } }] } : {}),
    ports: [{ name: PORT_NAME, containerPort: AGENT_PORT, protocol: 'TCP' }],
    livenessProbe: { httpGet: { path: '/healthz', port: PORT_NAME }, initialDelaySeconds: 10, periodSeconds: 20, failureThreshold: 3 },
    readinessProbe: { httpGet: { path: '/readyz', port: PORT_NAME }, initialDelaySeconds: 5, periodSeconds: 10 },
    resources: DEFAULT_RESOURCES,
    securityContext: {
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'], add: ['DAC_READ_SEARCH'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [
      { name: 'varlog', mountPath: '/var/log', readOnly: true },
      // cri-dockerd nodes: /var/log/pods/*/*.log link to the json-file logs here.
      { name: 'dockercontainers', mountPath: '/var/lib/docker/containers', readOnly: true },
      { name: 'state', mountPath: DATA_DIR },
      { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
}

export function buildManifests(options: ManifestOptions = {}): KubeObject[] {
  const namespace = options.namespace ?? NAME;
  const meta = (namespaced: boolean) => ({ name: NAME, ...(namespaced ? { namespace } : {}), labels: labels() });
  // Fresh objects every call: callers (kustomize, tests) may change what they get.
  return structuredClone([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: labels() } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(true) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta(false),
      // Exactly what the metadata cache does: list and watch this node's pods, and namespaces.
      rules: [{ apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(true), data: { 'logferry.yaml': stringify(agentConfig(options), { sortMapEntries: true }) } },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: meta(true),
      spec: {
        selector: { matchLabels: labels() },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels: labels() },
          spec: {
            serviceAccountName: NAME,
            priorityClassName: 'system-node-critical',
            // Above the agent's 25 s shutdown grace: it flushes and commits checkpoints before it is killed.
            terminationGracePeriodSeconds: 30,
            nodeSelector: options.nodeSelector ?? DEFAULT_NODE_SELECTOR,
            tolerations: options.tolerations ?? DEFAULT_TOLERATIONS,
            containers: [agentContainer(options)],
            volumes: [
              { name: 'varlog', hostPath: { path: '/var/log', type: 'Directory' } },
              { name: 'dockercontainers', hostPath: { path: '/var/lib/docker/containers' } },
              { name: 'state', hostPath: { path: DATA_DIR, type: 'DirectoryOrCreate' } },
              { name: 'config', configMap: { name: NAME } },
              { name: 'tmp', emptyDir: {} },
            ],
          },
        },
      },
    },
  ]);
}
