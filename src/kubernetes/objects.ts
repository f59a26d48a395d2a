/**
 * The parts of the Kubernetes API objects this agent reads, typed loosely on purpose: the API server is
 * another program and every field may be absent, so code reading these checks before it trusts.
 */
export interface OwnerReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface ContainerSpec {
  name?: string;
  image?: string;
}

export interface ContainerStatus {
  name?: string;
  containerID?: string;
  image?: string;
  imageID?: string;
}

export interface KubePod {
  kind?: string;
  apiVersion?: string;
  metadata?: ObjectMeta;
  spec?: {
    nodeName?: string;
    containers?: ContainerSpec[];
    initContainers?: ContainerSpec[];
    ephemeralContainers?: ContainerSpec[];
  };
  status?: {
    podIP?: string;
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
    ephemeralContainerStatuses?: ContainerStatus[];
  };
}

export interface KubeNamespace {
  kind?: string;
  apiVersion?: string;
  metadata?: ObjectMeta;
}

export interface KubeList<T> {
  kind?: string;
  metadata?: { resourceVersion?: string };
  items?: T[];
}

/** `kind: Status`: what the API server sends for errors, in a response body or a watch ERROR event. */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T> {
  type: WatchEventType;
  object: T & KubeStatus;
}

/** What a list+watch feeds: the full state after a list, then changes. */
export interface WatchHandler<T> {
  replace(items: T[]): void;
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T): void;
}
