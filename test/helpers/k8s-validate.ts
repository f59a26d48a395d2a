/**
 * Offline validation of Kubernetes objects: the OpenAPI schemas compiled into kubernetes-models (types,
 * required fields, enums) plus an unknown-field check, which those schemas do not do — a misspelt
 * `imagePullPolcy` is silently dropped by the API server, so it must fail here. The field lists follow the
 * Kubernetes API reference for the types logferry's manifests and injected sidecars use.
 */
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  ClusterRole, ClusterRoleBinding, DaemonSet, Deployment, StatefulSet, CronJob, Job, ConfigMap, Namespace, Pod, Service, ServiceAccount,
};

/** field → type of its value ('' = scalar or free-form, 'X[]' = array of X, 'map' = string map). */
const FIELDS: Record<string, Record<string, string>> = {
  ObjectMeta: { name: '', namespace: '', labels: 'map', annotations: 'map', generateName: '', uid: '', resourceVersion: '', ownerReferences: '', finalizers: '' },
  DaemonSetSpec: { selector: 'LabelSelector', template: 'PodTemplateSpec', updateStrategy: 'DaemonSetUpdateStrategy', minReadySeconds: '', revisionHistoryLimit: '' },
  DaemonSetUpdateStrategy: { type: '', rollingUpdate: 'RollingUpdate' },
  RollingUpdate: { maxUnavailable: '', maxSurge: '', partition: '' },
  DeploymentSpec: { replicas: '', selector: 'LabelSelector', template: 'PodTemplateSpec', strategy: '', minReadySeconds: '', revisionHistoryLimit: '', paused: '', progressDeadlineSeconds: '' },
  StatefulSetSpec: { replicas: '', selector: 'LabelSelector', template: 'PodTemplateSpec', serviceName: '', volumeClaimTemplates: '', podManagementPolicy: '', updateStrategy: '', revisionHistoryLimit: '', minReadySeconds: '', persistentVolumeClaimRetentionPolicy: '', ordinals: '' },
  JobSpec: { template: 'PodTemplateSpec', backoffLimit: '', completions: '', parallelism: '', activeDeadlineSeconds: '', ttlSecondsAfterFinished: '', selector: 'LabelSelector', manualSelector: '', completionMode: '', suspend: '', podFailurePolicy: '' },
  CronJobSpec: { schedule: '', jobTemplate: 'JobTemplateSpec', concurrencyPolicy: '', suspend: '', successfulJobsHistoryLimit: '', failedJobsHistoryLimit: '', startingDeadlineSeconds: '', timeZone: '' },
  JobTemplateSpec: { metadata: 'ObjectMeta', spec: 'JobSpec' },
  LabelSelector: { matchLabels: 'map', matchExpressions: '' },
  PodTemplateSpec: { metadata: 'ObjectMeta', spec: 'PodSpec' },
  PodSpec: {
    containers: 'Container[]', initContainers: 'Container[]', volumes: 'Volume[]', serviceAccountName: '', serviceAccount: '', nodeSelector: 'map', tolerations: 'Toleration[]',
    priorityClassName: '', terminationGracePeriodSeconds: '', restartPolicy: '', securityContext: '', affinity: '', hostNetwork: '', dnsPolicy: '', imagePullSecrets: '',
    automountServiceAccountToken: '', nodeName: '', hostPID: '', schedulerName: '', topologySpreadConstraints: '', enableServiceLinks: '',
  },
  Toleration: { key: '', operator: '', value: '', effect: '', tolerationSeconds: '' },
  Container: {
    name: '', image: '', imagePullPolicy: '', command: '', args: '', env: 'EnvVar[]', envFrom: 'EnvFromSource[]', ports: 'ContainerPort[]', resources: 'Resources',
    volumeMounts: 'VolumeMount[]', livenessProbe: 'Probe', readinessProbe: 'Probe', startupProbe: 'Probe', securityContext: 'SecurityContext', workingDir: '',
    lifecycle: '', terminationMessagePath: '', terminationMessagePolicy: '', stdin: '', tty: '', restartPolicy: '',
  },
  EnvVar: { name: '', value: '', valueFrom: 'EnvVarSource' },
  EnvVarSource: { fieldRef: 'ObjectFieldSelector', secretKeyRef: '', configMapKeyRef: '', resourceFieldRef: '' },
  ObjectFieldSelector: { fieldPath: '', apiVersion: '' },
  EnvFromSource: { secretRef: 'LocalRef', configMapRef: 'LocalRef', prefix: '' },
  LocalRef: { name: '', optional: '' },
  ContainerPort: { name: '', containerPort: '', protocol: '', hostPort: '', hostIP: '' },
  Resources: { requests: 'map', limits: 'map' },
  VolumeMount: { name: '', mountPath: '', readOnly: '', subPath: '', mountPropagation: '', subPathExpr: '' },
  Probe: { httpGet: 'HttpGet', exec: '', tcpSocket: '', initialDelaySeconds: '', periodSeconds: '', timeoutSeconds: '', failureThreshold: '', successThreshold: '' },
  HttpGet: { path: '', port: '', host: '', scheme: '', httpHeaders: '' },
  SecurityContext: { runAsUser: '', runAsGroup: '', runAsNonRoot: '', allowPrivilegeEscalation: '', readOnlyRootFilesystem: '', capabilities: 'Capabilities', privileged: '', seccompProfile: 'Seccomp', seLinuxOptions: '' },
  Capabilities: { add: '', drop: '' },
  Seccomp: { type: '', localhostProfile: '' },
  Volume: { name: '', hostPath: 'HostPath', emptyDir: 'EmptyDir', configMap: '', secret: '', downwardAPI: 'DownwardApi', persistentVolumeClaim: '', projected: '' },
  HostPath: { path: '', type: '' },
  EmptyDir: { medium: '', sizeLimit: '' },
  DownwardApi: { items: 'DownwardApiItem[]', defaultMode: '' },
  DownwardApiItem: { path: '', fieldRef: 'ObjectFieldSelector', resourceFieldRef: '', mode: '' },
};

const SPEC_TYPE: Record<string, string> = { DaemonSet: 'DaemonSetSpec', Deployment: 'DeploymentSpec', StatefulSet: 'StatefulSetSpec', Job: 'JobSpec', CronJob: 'CronJobSpec', Pod: 'PodSpec' };

function unknownFields(value: unknown, type: string, path: string, out: string[]): void {
  if (type === '' || type === 'map' || value === null || value === undefined) return;
  if (type.endsWith('[]')) {
    if (Array.isArray(value)) value.forEach((item, i) => unknownFields(item, type.slice(0, -2), `${path}[${i}]`, out));
    return;
  }
  const fields = FIELDS[type];
  if (!fields || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (!(key in fields)) out.push(`${path}.${key}: unknown field of ${type}`);
    else unknownFields(child, fields[key], `${path}.${key}`, out);
  }
}

/** Problems with one object (empty when it is valid). */
export function validateObject(object: Record<string, any>): string[] {
  const problems: string[] = [];
  const Model = MODELS[object.kind];
  if (!Model) return [`kind ${object.kind}: no schema to validate against`];
  try {
    new Model(object).validate();
  } catch (error) {
    problems.push(`${object.kind}/${object.metadata?.name}: ${(error as Error).message}`);
  }
  unknownFields(object.metadata, 'ObjectMeta', `${object.kind}.metadata`, problems);
  if (SPEC_TYPE[object.kind]) unknownFields(object.spec, SPEC_TYPE[object.kind], `${object.kind}.spec`, problems);
  return problems;
}
