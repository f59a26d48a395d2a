/**
 * Minimal glob expansion for input paths (`*`, `?`, `**`, per path segment). Node 20 has no fs.glob, and
 * inputs are simple absolute patterns such as `/var/log/containers/*.log`.
 */
import { readdir } from 'node:fs/promises';
import { join, sep } from 'node:path';

function segmentRegex(segment: string): RegExp {
  let source = '^';
  for (const ch of segment) {
    if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(source + '$');
}

export function hasMagic(segment: string): boolean {
  return segment.includes('*') || segment.includes('?');
}

/** Static directory prefix of a pattern: the directory to watch for new files. */
export function globBase(pattern: string): string {
  const parts = pattern.split(sep);
  const fixed: string[] = [];
  for (const part of parts.slice(0, -1)) {
    if (hasMagic(part)) break;
    fixed.push(part);
  }
  return fixed.join(sep) || sep;
}

async function listDir(dir: string): Promise<{ name: string; isDir: boolean }[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    // Symlinked directories count as directories (e.g. /var/log/containers entries are symlinks to files).
    return entries.map((e) => ({ name: e.name, isDir: e.isDirectory() }));
  } catch {
    return [];
  }
}

async function expand(base: string, segments: string[], out: Set<string>): Promise<void> {
  if (segments.length === 0) {
    out.add(base);
    return;
  }
  const [head, ...rest] = segments;
  if (head === '**') {
    await expand(base, rest, out);
    for (const entry of await listDir(base)) {
      if (entry.isDir) await expand(join(base, entry.name), segments, out);
    }
    return;
  }
  if (!hasMagic(head)) {
    await expand(join(base, head), rest, out);
    return;
  }
  const regex = segmentRegex(head);
  for (const entry of await listDir(base)) {
    if (!regex.test(entry.name)) continue;
    if (rest.length > 0 && !entry.isDir) continue;
    await expand(join(base, entry.name), rest, out);
  }
}

/** Paths matching an absolute pattern (files or symlinks; existence of the last segment checked by the caller). */
export async function expandGlob(pattern: string): Promise<string[]> {
  const segments = pattern.split(sep).filter((s) => s.length > 0);
  const out = new Set<string>();
  if (!segments.some(hasMagic)) return [pattern];
  await expand(sep, segments, out);
  return [...out].sort();
}

/** True if `path` matches `pattern` (used to tell which input a watched event belongs to). */
export function globMatch(pattern: string, path: string): boolean {
  const p = pattern.split(sep).filter(Boolean);
  const s = path.split(sep).filter(Boolean);
  const match = (i: number, j: number): boolean => {
    if (i === p.length) return j === s.length;
    if (p[i] === '**') return match(i + 1, j) || (j < s.length && match(i, j + 1));
    return j < s.length && segmentRegex(p[i]).test(s[j]) && match(i + 1, j + 1);
  };
  return match(0, 0);
}
