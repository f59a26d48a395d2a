/**
 * Where `logferry inject` may mount the application's log directory. The directory becomes an emptyDir in
 * both containers, and a volume hides whatever the image had at that path: over /etc or /usr it would
 * hide the system (the pod crash-loops, or worse, runs with an empty /etc/ssl), over /var/run/secrets
 * the service account token, over /app the sidecar's own program. Refused with the reason instead.
 */
import { DATA_DIR } from './objects.js';

/**
 * The logferry image's own files (deploy/docker/Dockerfile: WORKDIR and every COPY destination); a
 * test checks this list against the Dockerfile. Its other files (node, tini, journalctl) are under the
 * system directories below.
 */
export const IMAGE_APP_PATHS = ['/app', '/app/package.json', '/app/node_modules', '/app/dist/src', '/app/bin'];

/** The sidecar's other mounts (inject.ts): the log directory must not be one of them or contain one. */
const SIDECAR_MOUNTS = [DATA_DIR, '/etc/podinfo'];

/** Refused with everything under them: system files, kernel interfaces, credentials. */
const SYSTEM_TREES = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/proc',
  '/sbin',
  '/sys',
  '/usr/bin',
  '/usr/sbin',
  '/usr/lib',
  '/usr/lib32',
  '/usr/lib64',
  '/usr/libexec',
  '/usr/include',
  '/usr/share',
  '/usr/local/bin',
  '/usr/local/sbin',
  '/usr/local/lib',
  '/usr/local/include',
  '/usr/local/share',
  '/var/run/secrets',
  '/run/secrets',
  '/var/lib/kubelet',
];

/**
 * Refused themselves, since they hold other directories, but fine below: an app under /opt/app or
 * /usr/local/tomcat writes its logs in a directory of its own there.
 */
const SYSTEM_PARENTS = ['/', '/home', '/media', '/mnt', '/opt', '/root', '/run', '/srv', '/usr', '/usr/local', '/var', '/var/lib', '/var/run'];

function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === '/' ? '/' : dir + '/');
}

/** Why `dir` (normalised, absolute) cannot be the shared log directory, or undefined when it can. */
export function mountProblem(dir: string): string | undefined {
  const tree = SYSTEM_TREES.find((system) => within(dir, system));
  if (tree !== undefined)
    return `is ${tree === dir ? 'a system directory' : `under the system directory ${tree}`}: an emptyDir mounted there would hide the image's files`;
  if (SYSTEM_PARENTS.includes(dir)) return 'is a system directory: an emptyDir mounted there would hide everything the image has in it';
  const own = IMAGE_APP_PATHS.find((path) => within(path, dir) || (path !== '/app' && within(dir, path)));
  if (own !== undefined) return `would hide the logferry image's own files (${own}) in the sidecar`;
  const mount = SIDECAR_MOUNTS.find((path) => within(path, dir) || within(dir, path));
  if (mount !== undefined) return `clashes with the sidecar's own volume at ${mount}`;
  return undefined;
}
