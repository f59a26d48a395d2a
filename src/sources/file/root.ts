/** `--root`: the host's root as mounted. Default inputs live under it; `log.file.path` is shown without it. */
import { join, resolve } from 'node:path';

export function rooted(root: string, path: string): string {
  const base = resolve(root);
  return base === '/' ? path : join(base, path);
}

export function unrooted(root: string, path: string): string {
  const base = resolve(root);
  if (base === '/' || !path.startsWith(base + '/')) return path;
  return path.slice(base.length);
}
