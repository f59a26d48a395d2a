/**
 * What a container log's path says about its origin, so every record carries namespace, pod, container
 * and container id even when the Kubernetes API is unreachable.
 *
 *   /var/log/containers/<pod>_<namespace>_<container>-<64-hex container id>.log   (symlink)
 *   /var/log/pods/<namespace>_<pod>_<pod uid>/<container>/<restart count>.log     (its target)
 */
import { basename, dirname } from 'node:path';

export interface ContainerFileOrigin {
  namespace: string;
  podName: string;
  containerName: string;
  containerId?: string;
  podUid?: string;
}

const CONTAINER_ID_LENGTH = 64;

export function parseContainerLogName(path: string): ContainerFileOrigin | undefined {
  let name = basename(path);
  if (!name.endsWith('.log')) return undefined;
  name = name.slice(0, -4);
  const first = name.indexOf('_');
  const second = first < 0 ? -1 : name.indexOf('_', first + 1);
  if (first <= 0 || second <= first + 1) return undefined;
  const podName = name.slice(0, first);
  const namespace = name.slice(first + 1, second);
  const rest = name.slice(second + 1);
  const dash = rest.lastIndexOf('-');
  if (dash > 0 && rest.length - dash - 1 === CONTAINER_ID_LENGTH) {
    return { podName, namespace, containerName: rest.slice(0, dash), containerId: rest.slice(dash + 1) };
  }
  return rest.length > 0 ? { podName, namespace, containerName: rest } : undefined;
}

/** `/var/log/pods/<ns>_<pod>_<uid>/<container>/N.log` (or a rotated sibling of it). */
export function parsePodLogPath(realPath: string): ContainerFileOrigin | undefined {
  const containerDir = dirname(realPath);
  const podDir = basename(dirname(containerDir));
  const parts = podDir.split('_');
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) return undefined;
  return { namespace: parts[0], podName: parts[1], podUid: parts[2], containerName: basename(containerDir) };
}

/** Combine both: the symlink name gives the container id, the target's path the pod uid. */
export function containerOrigin(linkPath: string, realPath: string): ContainerFileOrigin | undefined {
  const fromName = parseContainerLogName(linkPath);
  const fromTarget = parsePodLogPath(realPath);
  if (fromName === undefined) return fromTarget;
  if (fromTarget !== undefined && fromTarget.namespace === fromName.namespace && fromTarget.podName === fromName.podName) {
    return { ...fromName, podUid: fromTarget.podUid };
  }
  return fromName;
}
