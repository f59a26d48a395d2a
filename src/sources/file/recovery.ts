/**
 * Finding files again: a file rotated or renamed while the agent was stopped (by its identity among its
 * directory's siblings), rotations the agent never saw, copytruncate copies, and checkpoints of files that
 * have left the disk. Split from the tailer, which calls these at start, on rotation and on rescans.
 */
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { CheckpointEntry } from '../../checkpoint/store.js';
import { expandGlob } from './glob.js';
import { identify, identityKey, idPrefixFor, type FileFingerprint } from './identity.js';
import type { TailedFile } from './tailed-file.js';
import type { TailerStats } from './stats.js';
import type { FileInput, TailerOptions } from './tailer.js';

/** What recovery needs from the tailer. */
export interface RecoveryHost {
  readonly options: TailerOptions;
  readonly files: Map<string, TailedFile>;
  /** closed, records not all acknowledged yet */
  readonly settling: Map<string, TailedFile>;
  readonly stats: TailerStats;
  openFile(input: FileInput, path: string, readFrom: 'beginning' | 'end', known?: { entry: CheckpointEntry; realPath: string }): Promise<boolean>;
  inputNamed(name: string | undefined): FileInput | undefined;
}

export class Recovery {
  constructor(private readonly host: RecoveryHost) {}

  /**
   * copytruncate copies the file aside before truncating it: lines written after our last read exist only
   * in the copy. Find the copy (same first line, another inode, at least as long as what we read) and read
   * it on from our position with the same ids — offsets in a copy are the original's offsets.
   */
  async drainCopy(file: TailedFile): Promise<boolean> {
    const dir = dirname(file.realPath);
    const stem = basename(file.realPath);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (name === stem || !name.startsWith(stem) || name.endsWith('.gz')) continue;
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info === undefined || !info.isFile() || info.ino === file.fingerprint.ino || info.size < file.readPos) continue;
      const fingerprint = await this.fingerprintOf(path);
      if (fingerprint?.fingerprint !== file.fingerprint.fingerprint || this.host.files.has(identityKey(fingerprint))) continue;
      const input = this.host.inputNamed(file.input);
      const stored = this.host.options.checkpoints.get(file.key);
      if (input === undefined || stored === undefined) return false;
      // Resume at the last acknowledged offset, not where reading stopped: if the agent dies before the
      // original's batches in flight are acknowledged, the copy's checkpoint still covers them. The overlap is
      // re-sent with the same ids (same prefix, same offsets), so the backend keeps one copy.
      const entry: CheckpointEntry = {
        ...stored,
        key: identityKey(fingerprint),
        path,
        ino: fingerprint.ino,
        dev: fingerprint.dev,
        offset: stored.offset,
        idPrefix: file.context.idPrefix,
        done: false,
        updatedAt: Date.now(),
      };
      if (await this.host.openFile(input, path, 'beginning', { entry, realPath: path })) {
        this.host.stats.copiesDrained++;
        return true;
      }
      return false;
    }
    return false;
  }

  /**
   * Files rotated while the agent was down that it never opened (several rotations in a row, or a crash
   * before it saved): rotated siblings of the current files, unknown to the checkpoints, modified after the
   * previous run's last complete look for files began. They hold lines written since then, so they are read
   * from the beginning.
   */
  async recoverUnseenRotations(previousScannedAt: number): Promise<void> {
    const known = new Set<string>();
    const byContent = new Map<string, CheckpointEntry>();
    // Per directory, when the agent first opened a file there: a sibling written since then and unknown to
    // the checkpoints was never read (a burst of rotations, or a crash before the agent saw it).
    const firstOpened = new Map<string, number>();
    for (const entry of this.host.options.checkpoints.all()) {
      known.add(`${entry.dev}:${entry.ino}`);
      byContent.set(entry.fingerprint, entry);
      if (entry.openedAt !== undefined) {
        const dir = dirname(entry.path);
        firstOpened.set(dir, Math.min(firstOpened.get(dir) ?? Infinity, entry.openedAt));
      }
    }
    for (const input of this.host.options.inputs) {
      for (const pattern of input.patterns) {
        for (const path of await expandGlob(pattern)) {
          const realPath = await realpath(path).catch(() => undefined);
          if (realPath === undefined) continue;
          const dir = dirname(realPath);
          const stem = basename(realPath);
          for (const name of await readdir(dir).catch(() => [] as string[])) {
            if (name === stem || !name.startsWith(stem) || name.endsWith('.gz') || name.endsWith('.tmp')) continue;
            const sibling = join(dir, name);
            const info = await stat(sibling).catch(() => undefined);
            const since = Math.min(firstOpened.get(dir) ?? Infinity, previousScannedAt) - 1000;
            if (info === undefined || !info.isFile() || known.has(`${info.dev}:${info.ino}`) || info.mtimeMs < since) continue;
            const fingerprint = await this.fingerprintOf(sibling);
            if (fingerprint === undefined || this.host.files.has(identityKey(fingerprint))) continue;
            const copied = byContent.get(fingerprint.fingerprint);
            if (copied !== undefined) {
              // A copy of content we track (copytruncate). If the original still holds it, nothing is new;
              // if the original was truncated, the copy is read on from the original's checkpoint, same ids.
              if ((await this.fingerprintOf(copied.path))?.fingerprint === copied.fingerprint) continue;
              const entry: CheckpointEntry = {
                ...copied,
                key: identityKey(fingerprint),
                path: sibling,
                dev: fingerprint.dev,
                ino: fingerprint.ino,
                done: false,
                updatedAt: Date.now(),
              };
              if (await this.host.openFile(input, sibling, 'beginning', { entry, realPath: sibling })) {
                known.add(`${info.dev}:${info.ino}`);
                this.host.stats.copiesDrained++;
              }
              continue;
            }
            const description = input.describe(path, realPath);
            if (description === undefined) continue;
            const entry: CheckpointEntry = {
              key: identityKey(fingerprint),
              path: sibling,
              dev: fingerprint.dev,
              ino: fingerprint.ino,
              fingerprint: fingerprint.fingerprint,
              offset: 0,
              idPrefix: idPrefixFor(this.host.options.nodeName, fingerprint),
              origin: description.origin,
              input: input.name,
              displayPath: input.displayPath(path),
              updatedAt: Date.now(),
            };
            if (await this.host.openFile(input, sibling, 'beginning', { entry, realPath: sibling })) {
              known.add(`${info.dev}:${info.ino}`);
              this.host.stats.missedRotations++;
            }
          }
        }
      }
    }
  }

  /**
   * Checkpointed files that are no longer where they were (rotated or renamed while the agent was stopped):
   * look for them among their directory's siblings, by inode and fingerprint, and drain them from their offset.
   */
  async recoverCheckpoints(): Promise<void> {
    const checkpoints = this.host.options.checkpoints;
    for (const entry of checkpoints.all()) {
      if (entry.cursor !== undefined || entry.input === undefined) continue;
      const input = this.host.inputNamed(entry.input);
      if (input === undefined) continue;
      const here = await stat(entry.path).catch(() => undefined);
      if (here !== undefined && here.ino === entry.ino && here.dev === entry.dev) {
        // Done is trusted only as far as the offset backs it (a file marked done before its records were
        // acknowledged, by an earlier version, is read on).
        if (entry.done && entry.offset >= here.size) continue;
        // Still in place; the glob may not match it any more (a rotated sibling), so open it directly.
        if (await this.isGlobbed(input, entry.path)) continue;
        await this.host.openFile(input, entry.path, 'beginning', { entry, realPath: entry.path });
        continue;
      }
      const found = await this.findInDirectory(dirname(entry.path), entry);
      if (found === undefined) {
        checkpoints.forget(entry.key);
        continue;
      }
      entry.path = found;
      const size = (await stat(found).catch(() => undefined))?.size ?? 0;
      if (!entry.done || entry.offset < size) await this.host.openFile(input, found, 'beginning', { entry, realPath: found });
    }
  }

  /**
   * An entry with unread lines whose path now holds another file. Its file was rotated after recovery
   * looked (still in place then, so left to the first scan) and before that scan opened the path; or the
   * path was reused. Found by its identity it is read on from its checkpoint; forgotten only when it is gone
   * or was replaced in place (truncated and rewritten: another first line).
   */
  private async reopenDisplaced(entry: CheckpointEntry): Promise<void> {
    const input = this.host.inputNamed(entry.input);
    const found = input === undefined ? undefined : await this.findInDirectory(dirname(entry.path), entry);
    if (input === undefined || found === undefined) {
      this.host.options.checkpoints.forget(entry.key);
      return;
    }
    await this.host.openFile(input, found, 'beginning', { entry: { ...entry, path: found }, realPath: found });
  }

  async isGlobbed(input: FileInput, realPath: string): Promise<boolean> {
    for (const pattern of input.patterns) {
      for (const path of await expandGlob(pattern)) {
        if (path === realPath || (await realpath(path).catch(() => '')) === realPath) return true;
      }
    }
    return false;
  }

  async findInDirectory(dir: string, entry: CheckpointEntry): Promise<string | undefined> {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (name.endsWith('.gz')) continue;
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info === undefined || !info.isFile() || info.ino !== entry.ino || info.dev !== entry.dev) continue;
      const fingerprint = await this.fingerprintOf(path);
      if (fingerprint?.fingerprint === entry.fingerprint) return path;
    }
    return undefined;
  }

  async fingerprintOf(path: string): Promise<FileFingerprint | undefined> {
    const handle = await open(path, 'r').catch(() => undefined);
    if (handle === undefined) return undefined;
    try {
      const info = await handle.stat();
      return await identify(handle, info.dev, info.ino, info.size);
    } finally {
      await handle.close();
    }
  }

  /**
   * After a rotation, rotated siblings the agent never saw (two rotations between two looks) are read too:
   * any regular file in the directory that is not being tailed and has no checkpoint is new to us, if
   * written since `sinceMs` (default: since the file at `realPath` was opened).
   */
  async findUnseenSiblings(realPath: string, sinceMs?: number): Promise<void> {
    const dir = dirname(realPath);
    const stem = basename(realPath).replace(/\.log$/, '');
    const file = [...this.host.files.values()].find((f) => f.realPath === realPath);
    const input = this.host.inputNamed(file?.input);
    if (input === undefined || file === undefined) return;
    const knownContent = new Set<string>();
    for (const f of this.host.files.values()) knownContent.add(f.fingerprint.fingerprint);
    for (const entry of this.host.options.checkpoints.all()) knownContent.add(entry.fingerprint);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!name.startsWith(stem) || name.endsWith('.gz') || name.endsWith('.tmp')) continue;
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info === undefined || !info.isFile()) continue;
      const fingerprint = await this.fingerprintOf(path);
      if (fingerprint === undefined) continue;
      const key = identityKey(fingerprint);
      if (this.host.files.has(key) || this.host.options.checkpoints.get(key) !== undefined) {
        if (fingerprint.ino === file.fingerprint.ino) file.realPath = path;
        continue;
      }
      // Older rotations (written before this file was opened) and copies of content already read are not new.
      if (info.mtimeMs < (sinceMs ?? file.openedAtMs) || knownContent.has(fingerprint.fingerprint)) continue;
      const origin = this.host.options.checkpoints.get(file.key)?.origin;
      const entry: CheckpointEntry = {
        key,
        path,
        dev: fingerprint.dev,
        ino: fingerprint.ino,
        fingerprint: fingerprint.fingerprint,
        offset: 0,
        idPrefix: idPrefixFor(this.host.options.nodeName, fingerprint),
        origin,
        input: input.name,
        displayPath: file.context.path,
        updatedAt: Date.now(),
      };
      // Only files that are neither the current file at the glob path nor already known get here.
      const current = await stat(file.path).catch(() => undefined);
      if (current !== undefined && current.ino === fingerprint.ino) continue;
      this.host.stats.missedRotations++;
      await this.host.openFile(input, path, 'beginning', { entry, realPath: path });
    }
  }

  /**
   * Forget checkpoints of files that were read to the end and have since left the disk, and of contents
   * replaced in place (truncated, then rewritten with another first line).
   */
  async pruneDone(): Promise<void> {
    const checkpoints = this.host.options.checkpoints;
    const openPaths = new Set<string>();
    for (const file of this.host.files.values()) openPaths.add(file.realPath);
    for (const entry of checkpoints.all()) {
      if (this.host.files.has(entry.key) || this.host.settling.has(entry.key) || entry.cursor !== undefined) continue;
      if (!entry.done) {
        if (openPaths.has(entry.path)) await this.reopenDisplaced(entry);
        continue;
      }
      const info = await stat(entry.path).catch(() => undefined);
      if (info !== undefined && info.ino === entry.ino && info.dev === entry.dev) continue;
      const moved = await this.findInDirectory(dirname(entry.path), entry);
      if (moved !== undefined) entry.path = moved;
      else checkpoints.forget(entry.key);
    }
  }
}
