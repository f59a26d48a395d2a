/**
 * Builds node log trees the way the kubelet and container runtimes lay them out:
 *   <root>/var/log/pods/<ns>_<pod>_<uid>/<container>/0.log          (the file the runtime writes)
 *   <root>/var/log/containers/<pod>_<ns>_<container>-<id>.log        (kubelet's symlink to it)
 * and writes CRI or docker json-file lines into them, with rotation like the runtimes do it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, renameSync, symlinkSync, writeFileSync, copyFileSync, truncateSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface PodContainer {
  namespace: string;
  pod: string;
  uid: string;
  container: string;
  containerId: string;
  /** the file the runtime writes */
  logPath: string;
  /** the /var/log/containers symlink */
  linkPath: string;
  format: 'cri' | 'docker';
}

export function containerIdFor(seed: string): string {
  return createHash('sha256').update(seed).digest('hex');
}

/** One container's log file and symlink; containers of one pod share `uid`. */
export function addContainer(
  root: string,
  namespace: string,
  pod: string,
  container: string,
  format: 'cri' | 'docker' = 'cri',
  uid: string = randomUUID(),
): PodContainer {
  const c = planContainer(root, namespace, pod, container, format, uid);
  createContainerFiles(c);
  return c;
}

/**
 * Where a container's log file and symlink will be, without creating them: a test can add the Pod to
 * the API first and create the files afterwards, in the order a real node does it.
 */
export function planContainer(
  root: string,
  namespace: string,
  pod: string,
  container: string,
  format: 'cri' | 'docker' = 'cri',
  uid: string = randomUUID(),
): PodContainer {
  const containerId = containerIdFor(`${namespace}/${pod}/${container}/${uid}`);
  const logPath = join(root, 'var/log/pods', `${namespace}_${pod}_${uid}`, container, '0.log');
  const linkPath = join(root, 'var/log/containers', `${pod}_${namespace}_${container}-${containerId}.log`);
  return { namespace, pod, uid, container, containerId, logPath, linkPath, format };
}

/** The empty log file and the /var/log/containers symlink to it, as the runtime and kubelet create them. */
export function createContainerFiles(c: PodContainer): void {
  mkdirSync(dirname(c.logPath), { recursive: true });
  writeFileSync(c.logPath, '');
  mkdirSync(dirname(c.linkPath), { recursive: true });
  symlinkSync(c.logPath, c.linkPath);
}

/** RFC 3339 with nanoseconds, the way containerd writes it. */
export function criTimestamp(ms: number, nanosExtra = 0): string {
  const iso = new Date(ms).toISOString(); // ...sss Z
  const nanos = String((ms % 1000) * 1_000_000 + nanosExtra).padStart(9, '0');
  return iso.slice(0, 19) + '.' + nanos + 'Z';
}

export function criLine(timestamp: string, stream: 'stdout' | 'stderr', tag: 'F' | 'P', text: string): string {
  return `${timestamp} ${stream} ${tag} ${text}\n`;
}

export function dockerLine(timestamp: string, stream: 'stdout' | 'stderr', text: string, partial = false): string {
  return JSON.stringify({ log: partial ? text : text + '\n', stream, time: timestamp }) + '\n';
}

/** One complete message as the runtime would write it (split into partial pieces when `pieces` > 1). */
export function formatMessage(c: PodContainer, message: string, stream: 'stdout' | 'stderr', ms: number, pieces = 1): string {
  const ts = criTimestamp(ms);
  if (pieces <= 1) return c.format === 'cri' ? criLine(ts, stream, 'F', message) : dockerLine(ts, stream, message);
  const size = Math.ceil(message.length / pieces);
  let out = '';
  for (let i = 0; i < pieces; i++) {
    const part = message.slice(i * size, (i + 1) * size);
    const last = i === pieces - 1;
    out += c.format === 'cri' ? criLine(ts, stream, last ? 'F' : 'P', part) : dockerLine(ts, stream, part, !last);
  }
  return out;
}

export function append(c: PodContainer, text: string): void {
  appendFileSync(c.logPath, text);
}

/** containerd/kubelet rotation: rename the live file to `0.log.<timestamp>`, start a new empty `0.log`. */
export function rotateByRename(c: PodContainer, suffix: string = new Date().toISOString().replace(/[-:.TZ]/g, '')): string {
  const rotated = `${c.logPath}.${suffix}`;
  renameSync(c.logPath, rotated);
  writeFileSync(c.logPath, '');
  return rotated;
}

/** logrotate copytruncate: copy the file aside, then truncate it in place. */
export function rotateByCopyTruncate(path: string, suffix = '1'): string {
  const copy = `${path}.${suffix}`;
  copyFileSync(path, copy);
  truncateSync(path, 0);
  return copy;
}
