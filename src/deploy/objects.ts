/**
 * The Kubernetes objects of a logferry node-agent install — the one source of truth: `logferry manifests`
 * prints them, the kustomize base under deploy/kubernetes/ is generated from them, and the Helm chart is
 * tested to render the same objects.
 *
 * Permissions, least privilege for a reader of root-owned logs: the container runs as uid 0 but with every
 * capability dropped except DAC_READ_SEARCH (read any file, write nothing it does not own), no privilege
 * escalation, a read-only root filesystem, /var/log mounted read-only. Its only writable place is the
 * hostPath for checkpoints, owned by root. The image itself defaults to the non-root `node` user (uid
 * 1000), which is what the sidecar runs as.
 */
export const AGENT_PORT = 2020;
export const CONFIG_PATH = '/etc/logferry/logferry.yaml';
export const DATA_DIR = '/var/lib/logferry';
export const DEFAULT_IMAGE = 'ghcr.io/logferry/logferry:0.1.0';
export const DEFAULT_NODE_SELECTOR: Record<string, string> = { 'logferry.io/enabled': 'true' };
export const SEED_NODE_SELECTOR: Record<string, string> = { 'beta.kubernetes.io/fluentd-ds-ready': 'true' };
/** The heap cap the benchmarks ran with: live data is bounded by the in-flight budget. */
export const NODE_OPTIONS = '--max-old-space-size=96';

export interface ManifestOptions {
  namespace?: string;
  image?: string;
  esHost?: string;
  esPort?: number;
  esScheme?: 'http' | 'https';
  /** Secret with ELASTICSEARCH_USERNAME / ELASTICSEARCH_PASSWORD (or ELASTICSEARCH_API_KEY) keys */
  esSecret?: string;
  nodeSelector?: Record<string, string>;
  /** mount /var/log/journal for a journald input */
  journald?: boolean;
}

export type KubeObject = Record<string, any>;

const NAME = 'logferry';

export function labels(): Record<string, string> {
  return { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/instance': NAME };
}

/** The agent's configuration in the ConfigMap: the endpoint on all addresses (probes), everything else default. */
export function agentConfigYaml(journald = false): string {
  const lines = ['server:', `  address: 0.0.0.0:${AGENT_PORT}`, 'inputs:', '  containers:', '    readFrom: beginning'];
  if (journald) lines.push('  journald:', '    enabled: true');
  return lines.join('\n') + '\n';
}

export function buildManifests(options: ManifestOptions = {}): KubeObject[] {
  const namespace = options.namespace ?? NAME;
  const meta = (name: string, namespaced = true) => ({ name, ...(namespaced ? { namespace } : {}), labels: labels() });
  const env: KubeObject[] = [
    { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    { name: 'ELASTICSEARCH_HOST', value: options.esHost ?? 'elasticsearch.example.com' },
    { name: 'ELASTICSEARCH_PORT', value: String(options.esPort ?? 9200) },
    { name: 'ELASTICSEARCH_SCHEME', value: options.esScheme ?? 'http' },
    { name: 'LOGFERRY_CONFIG', value: CONFIG_PATH },
    { name: 'NODE_OPTIONS', value: NODE_OPTIONS },
  ];
  const volumeMounts: KubeObject[] = [
    { name: 'varlog', mountPath: '/var/log', readOnly: true },
    { name: 'dockercontainers', mountPath: '/var/lib/docker/containers', readOnly: true },
    { name: 'state', mountPath: DATA_DIR },
    { name: 'config', mountPath: '/etc/logferry', readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  const volumes: KubeObject[] = [
    { name: 'varlog', hostPath: { path: '/var/log' } },
    { name: 'dockercontainers', hostPath: { path: '/var/lib/docker/containers' } },
    { name: 'state', hostPath: { path: DATA_DIR, type: 'DirectoryOrCreate' } },
    { name: 'config', configMap: { name: NAME } },
    { name: 'tmp', emptyDir: {} },
  ];
  if (options.journald) {
    volumeMounts.push({ name: 'journal', mountPath: '/var/log/journal', readOnly: true });
    volumes.push({ name: 'journal', hostPath: { path: '/var/log/journal' } });
  }
  const container: KubeObject = {
    name: NAME,
    image: options.image ?? DEFAULT_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    args: ['run', '--config', CONFIG_PATH, '--data-dir', DATA_DIR],
    env,
    ...(options.esSecret ? { envFrom: [{ secretRef: { name: options.esSecret, optional: true } }] } : {}),
    ports: [{ name: 'http-metrics', containerPort: AGENT_PORT, protocol: 'TCP' }],
    livenessProbe: { httpGet: { path: '/healthz', port: 'http-metrics' }, initialDelaySeconds: 10, periodSeconds: 20, failureThreshold: 3 },
    readinessProbe: { httpGet: { path: '/readyz', port: 'http-metrics' }, initialDelaySeconds: 5, periodSeconds: 10 },
    // Sized from `npm run bench`: ~140-170 MB peak RSS at 200k records/s; idle far below.
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '320Mi' } },
    securityContext: {
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'], add: ['DAC_READ_SEARCH'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts,
  };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: labels() } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(NAME) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta(NAME, false),
      // Exactly what the metadata cache does: list and watch this node's pods, and namespaces.
      rules: [{ apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(NAME, false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(NAME), data: { 'logferry.yaml': agentConfigYaml(options.journald) } },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: meta(NAME),
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
            // Control-plane nodes carry the kube-apiserver, controller-manager and scheduler logs.
            tolerations: [
              { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
              { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
            ],
            containers: [container],
            volumes,
          },
        },
      },
    },
  ];
}
