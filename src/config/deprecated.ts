/**
 * Keys that were accepted once but never did anything. They are dropped (with one warning line each)
 * before validation instead of failing as unknown keys, so ConfigMaps written for an older logferry keep
 * working; a later release removes them and they become unknown keys.
 */

interface DeprecatedKey {
  /** where the key sits in the file */
  path: readonly string[];
  why: string;
}

export const DEPRECATED_KEYS: readonly DeprecatedKey[] = [
  {
    path: ['pipeline', 'maxRotatedFilesPerContainer'],
    why: 'it was never applied (rotated files are held open until drained)',
  },
  {
    path: ['inputs', 'containers', 'jsonKey'],
    why: 'it was never applied (fields of JSON messages always go under `json`)',
  },
];

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Remove deprecated keys from the parsed YAML in place; returns one warning line per key found. */
export function dropDeprecatedKeys(raw: unknown, sourceName: string): string[] {
  const warnings: string[] = [];
  for (const { path, why } of DEPRECATED_KEYS) {
    let parent: unknown = raw;
    for (const key of path.slice(0, -1)) parent = isObject(parent) ? parent[key] : undefined;
    const last = path[path.length - 1];
    if (!isObject(parent) || !Object.prototype.hasOwnProperty.call(parent, last)) continue;
    delete parent[last];
    warnings.push(`${sourceName}: ${path.join('.')} is ignored and will be removed in a later release: ${why}; delete it from the file`);
  }
  return warnings;
}
