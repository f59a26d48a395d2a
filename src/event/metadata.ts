/**
 * Building {@link Metadata}: once per file or per pod change, never per record.
 */
import type { Metadata, MetadataFields } from './record.js';

/** `app.kubernetes.io/name` → `app_kubernetes_io/name`: dotted keys would become conflicting object paths. */
export function dedot(key: string): string {
  return key.includes('.') ? key.replaceAll('.', '_') : key;
}

export function makeMetadata(fields: Omit<MetadataFields, 'document'>, document: Record<string, unknown>): Metadata {
  const json = JSON.stringify(document);
  return { json: json.length > 2 ? json.slice(1, -1) : '', fields: { ...fields, document } };
}

export interface FileIdentity {
  namespace?: string;
  podName?: string;
  podUid?: string;
  containerName?: string;
  containerId?: string;
  nodeName?: string;
  serviceName?: string;
  labels?: Record<string, string>;
}

/** The ECS document fragment for what is known about a record's origin. */
export function metadataFromIdentity(identity: FileIdentity): Metadata {
  const document: Record<string, unknown> = {};
  const kubernetes: Record<string, unknown> = {};
  if (identity.namespace !== undefined) kubernetes.namespace = identity.namespace;
  const pod: Record<string, unknown> = {};
  if (identity.podName !== undefined) pod.name = identity.podName;
  if (identity.podUid !== undefined) pod.uid = identity.podUid;
  if (Object.keys(pod).length > 0) kubernetes.pod = pod;
  if (identity.containerName !== undefined) kubernetes.container = { name: identity.containerName };
  if (identity.nodeName !== undefined) kubernetes.node = { name: identity.nodeName };
  let labels: Record<string, string> | undefined;
  if (identity.labels !== undefined && Object.keys(identity.labels).length > 0) {
    labels = {};
    for (const [key, value] of Object.entries(identity.labels)) labels[dedot(key)] = value;
    kubernetes.labels = labels;
  }
  if (Object.keys(kubernetes).length > 0) document.kubernetes = kubernetes;
  if (identity.containerId !== undefined) document.container = { id: identity.containerId };
  if (identity.nodeName !== undefined) document.host = { name: identity.nodeName };
  if (identity.serviceName !== undefined) document.service = { name: identity.serviceName };
  return makeMetadata(
    {
      namespace: identity.namespace,
      podName: identity.podName,
      podUid: identity.podUid,
      containerName: identity.containerName,
      containerId: identity.containerId,
      nodeName: identity.nodeName,
      hostName: identity.nodeName,
      serviceName: identity.serviceName,
      labels,
    },
    document,
  );
}
