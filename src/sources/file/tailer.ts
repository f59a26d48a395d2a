/**
 * The one tailer behind every file source (container logs, component logs, sidecar files).
 *
 * It finds files by glob (fs.watch for speed, a periodic rescan because watch events get lost), reads
 * them round-robin a chunk at a time (fairness), stops reading when the in-flight budget is spent
 * (backpressure), follows rename and copytruncate rotation, drains rotated and deleted files to their end,
 * and moves checkpoints only as far as the sink has acknowledged.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, readdir, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { InflightBudget } from '../../agent/budget.js';
import type { CheckpointEntry, CheckpointStore } from '../../checkpoint/store.js';
import type { LogRecord } from '../../event/record.js';
import { createFileParser, type FileParserOptions } from '../../parsers/file-parser.js';
import { expandGlob, globBase } from './glob.js';
import { identify, identityKey, idPrefixFor, type FileFingerprint } from './identity.js';
import { ReadBuffer, TailedFile, type ChunkSink } from './tailed-file.js';
import type { FileContext, Metadata } from '../../event/record.js';
import { TailerStats } from './stats.js';

export interface FileDescription {
  /** metadata known from the path (namespace, pod, container, service, ...) and its string form for checkpoints */
  meta: Metadata;
  origin: Record<string, string>;
  parser: Omit<FileParserOptions, 'file'>;
}

export interface FileInput {
  /** 'containers' | 'components' | 'files' — a metrics label and the checkpoint's input tag */
  name: string;
  /** absolute glob patterns (the root already applied) */
  patterns: string[];
  /** files found at the very first start: read from the beginning (default) or only new lines */
  readFrom: 'beginning' | 'end';
  /** what the path says about the file; undefined skips it. `origin` is a stored description (rotated files). */
  describe(path: string, realPath: string, origin?: Record<string, string>): FileDescription | undefined;
  /** `log.file.path` for a path (e.g. with the --root prefix removed) */
  displayPath(path: string): string;
  /** a file of this origin was opened / closed (the Kubernetes cache keeps a deleted pod while its files are open) */
  opened?(origin: Record<string, string>): void;
  closed?(origin: Record<string, string>): void;
}

export interface TailerOptions {
  nodeName: string;
  inputs: FileInput[];
  checkpoints: CheckpointStore;
  budget: InflightBudget;
  sink: ChunkSink;
  readChunkBytes: number;
  maxRecordBytes: number;
  rescanIntervalMs: number;
  /** read to the end of every file, then stop */
  oneshot?: boolean;
  /** whether a checkpoint existed at start (first start → `readFrom` applies) */
  firstStart: boolean;
  onError?: (message: string, context: Record<string, unknown>) => void;
}

const EOF_CHECK_INTERVAL_MS = 1000;
const IDLE_WAIT_MS = 250;
/** watch events ask for a rescan; a busy directory must not turn that into one per loop */
const MIN_RESCAN_GAP_MS = 100;

export class Tailer {
  private readonly files = new Map<string, TailedFile>();
  private readonly byPath = new Map<string, TailedFile>();
  private readonly watchers: FSWatcher[] = [];
  private stopping = false;
  private wake: (() => void) | undefined;
  private lastRescanMs = 0;
  private rescanRequested = true;
  private opening = new Set<string>();
  readonly stats = new TailerStats();
  private loopDone: Promise<void> | undefined;
  private readonly readBuffer = new ReadBuffer();

  constructor(private readonly options: TailerOptions) {}

  /** Start reading; resolves when the loop ends (stop(), or end of input in oneshot mode). */
  start(): Promise<void> {
    this.loopDone = this.loop();
    return this.loopDone;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    for (const watcher of this.watchers) watcher.close();
    await this.loopDone?.catch(() => undefined);
    for (const file of this.files.values()) await file.handle.close().catch(() => undefined);
  }

  get openFiles(): TailedFile[] {
    return [...this.files.values()];
  }

  private error(message: string, context: Record<string, unknown>): void {
    this.stats.errors++;
    this.options.onError?.(message, context);
  }

  private async loop(): Promise<void> {
    const previousRun = this.options.checkpoints.previousSavedAt;
    await this.recoverCheckpoints();
    if (previousRun !== undefined) await this.recoverUnseenRotations(previousRun);
    await this.rescan(true);
    // Saved at once: a restart, even right after a crash, must know this run began and which files it opened.
    this.options.checkpoints.flush(true);
    this.startWatchers();
    const { budget, readChunkBytes, maxRecordBytes, sink } = this.options;
    while (!this.stopping) {
      let progressed = false;
      for (const file of [...this.files.values()]) {
        if (this.stopping) break;
        if (file.state === 'closed') continue;
        if (!budget.available(readChunkBytes)) {
          await budget.waitForRoom();
          if (this.stopping) break;
        }
        let bytes = 0;
        try {
          bytes = await file.readChunk(readChunkBytes, maxRecordBytes, sink, this.readBuffer);
        } catch (error) {
          this.error('read failed', { file: file.realPath, offset: file.readPos, error: (error as Error).message });
        }
        if (bytes > 0) {
          budget.take(bytes);
          this.stats.bytesRead += bytes;
          progressed = true;
        } else {
          await this.atEndOfFile(file);
        }
      }
      const now = Date.now();
      for (const file of this.files.values()) if (file.state !== 'closed') file.flushIdle(now, sink);
      const sinceRescan = now - this.lastRescanMs;
      if ((this.rescanRequested && sinceRescan >= MIN_RESCAN_GAP_MS) || sinceRescan >= this.options.rescanIntervalMs) await this.rescan(false);
      if (!progressed) {
        if (this.options.oneshot && this.allAtEnd()) {
          for (const file of this.files.values()) file.flushAll(sink, true);
          break;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, IDLE_WAIT_MS);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  private allAtEnd(): boolean {
    for (const file of this.files.values()) if (file.state !== 'closed' && file.readPos < file.knownSize) return false;
    return true;
  }

  /** At the end of a file: notice truncation, rotation and deletion (rate-limited per file). */
  private async atEndOfFile(file: TailedFile): Promise<void> {
    const now = Date.now();
    if (file.state === 'draining') {
      if (file.drainArmed) return this.finish(file, 'drained');
      file.drainArmed = true;
      return;
    }
    // fstat at every end of file (cheap): a copytruncate must be seen before the file grows back past us.
    const own = await file.handle.stat().catch(() => undefined);
    if (own === undefined) return this.finish(file, 'unreadable');
    file.knownSize = own.size;
    file.nlink = own.nlink;
    if (own.size < file.readPos) {
      this.stats.truncations++;
      const copied = await this.drainCopy(file);
      await this.finish(file, copied ? 'replaced' : 'truncated');
      this.restartIdentity(file);
      this.rescanRequested = true;
      return;
    }
    if (own.size > file.readPos) return; // grew meanwhile: read on
    if (!this.options.oneshot && now - file.lastCheckMs < EOF_CHECK_INTERVAL_MS) return;
    file.lastCheckMs = now;
    const current = await stat(file.path).catch(() => undefined);
    if (current === undefined || current.ino !== file.fingerprint.ino || current.dev !== file.fingerprint.dev) {
      // Renamed away or deleted: whatever the writer added before that is still read, then the file is closed.
      file.state = 'draining';
      file.drainArmed = false;
      this.byPath.delete(file.path);
      this.stats.rotations++;
      this.rescanRequested = true;
      await this.findUnseenSiblings(file.realPath);
    }
  }

  /**
   * copytruncate copies the file aside before truncating it: lines written after our last read exist only
   * in the copy. Find the copy (same first line, another inode, at least as long as what we read) and read
   * it on from our position with the same ids — offsets in a copy are the original's offsets.
   */
  private async drainCopy(file: TailedFile): Promise<boolean> {
    const dir = dirname(file.realPath);
    const stem = basename(file.realPath);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (name === stem || !name.startsWith(stem) || name.endsWith('.gz')) continue;
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info === undefined || !info.isFile() || info.ino === file.fingerprint.ino || info.size < file.readPos) continue;
      const fingerprint = await this.fingerprintOf(path);
      if (fingerprint?.fingerprint !== file.fingerprint.fingerprint || this.files.has(identityKey(fingerprint))) continue;
      const input = this.inputNamed(file.input);
      const stored = this.options.checkpoints.get(file.key);
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
      if (await this.openFile(input, path, 'beginning', { entry, realPath: path })) {
        this.stats.copiesDrained++;
        return true;
      }
      return false;
    }
    return false;
  }

  private async finish(file: TailedFile, reason: 'drained' | 'truncated' | 'replaced' | 'unreadable'): Promise<void> {
    if (file.state === 'closed') return;
    // 'replaced': a copy carries on from where this file's records stop, so what the parser holds is re-read there.
    if (reason !== 'replaced') file.flushAll(this.options.sink, reason !== 'truncated');
    file.state = 'closed';
    this.files.delete(file.key);
    if (this.byPath.get(file.path) === file) this.byPath.delete(file.path);
    await file.handle.close().catch(() => undefined);
    this.inputNamed(file.input)?.closed?.(file.origin);
    // A drained file's entry is dropped once the file has left the disk (see pruneDone), not before, so
    // that a rescan never reads it again.
    if (reason === 'drained' || reason === 'unreadable') this.options.checkpoints.markDone(file.key, file.realPath);
    this.stats.closed++;
  }

  /**
   * copytruncate: the content under this identity is gone. Acknowledgements still due for it must not move
   * the checkpoint, and if the new content starts with the same first line (same key) its records need
   * new ids: the generation is bumped so offsets that repeat do not collide with the old documents.
   */
  private restartIdentity(file: TailedFile): void {
    file.detached = true;
    const checkpoints = this.options.checkpoints;
    const entry = checkpoints.get(file.key);
    if (entry === undefined) return;
    const generation = (entry.generation ?? 0) + 1;
    checkpoints.set({ ...entry, offset: 0, generation, idPrefix: idPrefixFor(this.options.nodeName, file.fingerprint, generation), done: false, updatedAt: Date.now() }, true);
  }

  private startWatchers(): void {
    if (this.options.oneshot) return;
    const dirs = new Set<string>();
    for (const input of this.options.inputs) for (const pattern of input.patterns) dirs.add(globBase(pattern));
    for (const dir of dirs) {
      try {
        const watcher = watch(dir, { persistent: false }, () => {
          this.rescanRequested = true;
          this.wake?.();
        });
        watcher.on('error', () => watcher.close());
        this.watchers.push(watcher);
      } catch {
        // Directory missing or not watchable: the periodic rescan covers it.
      }
    }
  }

  private async rescan(initial: boolean): Promise<void> {
    this.rescanRequested = false;
    this.lastRescanMs = Date.now();
    let opened = 0;
    for (const input of this.options.inputs) {
      for (const pattern of input.patterns) {
        for (const path of await expandGlob(pattern)) {
          if (this.byPath.has(path)) continue;
          if (await this.openFile(input, path, initial && this.options.firstStart ? input.readFrom : 'beginning')) opened++;
        }
      }
    }
    if (!initial) await this.pruneDone();
    // New files are recorded right away, so a crash before the next periodic save cannot forget them.
    if (opened > 0 && !initial) this.options.checkpoints.flush();
  }

  /**
   * Files rotated while the agent was down that it never opened (several rotations in a row, or a crash
   * before it saved): rotated siblings of the current files, unknown to the checkpoints, modified after the
   * previous run last saved. They hold lines written since then, so they are read from the beginning.
   */
  private async recoverUnseenRotations(previousSavedAt: number): Promise<void> {
    const known = new Set<string>();
    const byContent = new Map<string, CheckpointEntry>();
    for (const entry of this.options.checkpoints.all()) {
      known.add(`${entry.dev}:${entry.ino}`);
      byContent.set(entry.fingerprint, entry);
    }
    for (const input of this.options.inputs) {
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
            if (info === undefined || !info.isFile() || known.has(`${info.dev}:${info.ino}`) || info.mtimeMs < previousSavedAt - 1000) continue;
            const fingerprint = await this.fingerprintOf(sibling);
            if (fingerprint === undefined || this.files.has(identityKey(fingerprint))) continue;
            const copied = byContent.get(fingerprint.fingerprint);
            if (copied !== undefined) {
              // A copy of content we track (copytruncate). If the original still holds it, nothing is new;
              // if the original was truncated, the copy is read on from the original's checkpoint, same ids.
              if ((await this.fingerprintOf(copied.path))?.fingerprint === copied.fingerprint) continue;
              const entry: CheckpointEntry = { ...copied, key: identityKey(fingerprint), path: sibling, dev: fingerprint.dev, ino: fingerprint.ino, done: false, updatedAt: Date.now() };
              if (await this.openFile(input, sibling, 'beginning', { entry, realPath: sibling })) {
                known.add(`${info.dev}:${info.ino}`);
                this.stats.copiesDrained++;
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
              idPrefix: idPrefixFor(this.options.nodeName, fingerprint),
              origin: description.origin,
              input: input.name,
              displayPath: input.displayPath(path),
              updatedAt: Date.now(),
            };
            if (await this.openFile(input, sibling, 'beginning', { entry, realPath: sibling })) {
              known.add(`${info.dev}:${info.ino}`);
              this.stats.missedRotations++;
            }
          }
        }
      }
    }
  }

  private inputNamed(name: string | undefined): FileInput | undefined {
    return this.options.inputs.find((input) => input.name === name);
  }

  /** Open a file found by a glob (or found again by its identity); returns false if it was not opened. */
  private async openFile(
    input: FileInput,
    path: string,
    readFrom: 'beginning' | 'end',
    known?: { entry: CheckpointEntry; realPath: string },
  ): Promise<boolean> {
    if (this.opening.has(path)) return false;
    this.opening.add(path);
    let handle: FileHandle | undefined;
    try {
      const realPath = known?.realPath ?? (await realpath(path));
      handle = await open(realPath, 'r');
      const info = await handle.stat();
      if (!info.isFile()) return false;
      const fingerprint = await identify(handle, info.dev, info.ino, info.size);
      if (fingerprint === undefined) return false; // first line incomplete: try again at the next scan
      const key = identityKey(fingerprint);
      if (this.files.has(key)) return false;
      const checkpoints = this.options.checkpoints;
      const entry = known?.entry ?? checkpoints.get(key);
      if (entry?.done) return false;
      const description = input.describe(path, realPath, entry?.origin);
      if (description === undefined) return false;
      let generation = entry?.generation ?? 0;
      let offset = entry?.offset ?? (readFrom === 'end' ? info.size : 0);
      if (entry !== undefined && entry.offset > info.size) {
        generation++; // truncated while we were away and rewritten with the same first line
        offset = 0;
      }
      const idPrefix = entry !== undefined && generation === (entry.generation ?? 0) ? entry.idPrefix : idPrefixFor(this.options.nodeName, fingerprint, generation);
      const displayPath = known ? entry?.displayPath ?? input.displayPath(realPath) : input.displayPath(path);
      const context: FileContext = { path: displayPath, pathJson: JSON.stringify(displayPath), idPrefix, meta: description.meta };
      const parser = createFileParser({ ...description.parser, file: context, maxRecordBytes: this.options.maxRecordBytes });
      const file = new TailedFile(handle, path, realPath, input.name, fingerprint, key, context, parser, offset, (f, position, released) =>
        this.onCommit(f, position, released),
      );
      file.knownSize = info.size;
      if (known) {
        file.state = 'draining';
        this.stats.foundAgain++;
      }
      checkpoints.set({
        key,
        path: realPath,
        dev: fingerprint.dev,
        ino: fingerprint.ino,
        fingerprint: fingerprint.fingerprint,
        offset,
        idPrefix,
        origin: description.origin,
        input: input.name,
        displayPath,
        generation,
        updatedAt: Date.now(),
      }, true);
      this.files.set(key, file);
      if (!known) this.byPath.set(path, file);
      file.origin = description.origin;
      input.opened?.(description.origin);
      this.stats.opened++;
      handle = undefined;
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.error('cannot open file', { file: path, error: (error as Error).message });
      return false;
    } finally {
      this.opening.delete(path);
      if (handle !== undefined) await handle.close().catch(() => undefined);
    }
  }

  private onCommit(file: TailedFile, position: number, releasedBytes: number): void {
    this.options.budget.release(releasedBytes);
    if (!file.detached) this.options.checkpoints.update(file.key, position);
  }

  /**
   * Checkpointed files that are no longer where they were (rotated or renamed while the agent was stopped):
   * look for them among their directory's siblings, by inode and fingerprint, and drain them from their offset.
   */
  private async recoverCheckpoints(): Promise<void> {
    const checkpoints = this.options.checkpoints;
    for (const entry of checkpoints.all()) {
      if (entry.cursor !== undefined || entry.input === undefined) continue;
      const input = this.inputNamed(entry.input);
      if (input === undefined) continue;
      const here = await stat(entry.path).catch(() => undefined);
      if (here !== undefined && here.ino === entry.ino && here.dev === entry.dev) {
        if (entry.done) continue;
        // Still in place; the glob may not match it any more (a rotated sibling), so open it directly.
        if (await this.isGlobbed(input, entry.path)) continue;
        await this.openFile(input, entry.path, 'beginning', { entry, realPath: entry.path });
        continue;
      }
      const found = await this.findInDirectory(dirname(entry.path), entry);
      if (found === undefined) {
        checkpoints.forget(entry.key);
        continue;
      }
      entry.path = found;
      if (!entry.done) await this.openFile(input, found, 'beginning', { entry, realPath: found });
    }
  }

  private async isGlobbed(input: FileInput, realPath: string): Promise<boolean> {
    for (const pattern of input.patterns) {
      for (const path of await expandGlob(pattern)) {
        if (path === realPath || (await realpath(path).catch(() => '')) === realPath) return true;
      }
    }
    return false;
  }

  private async findInDirectory(dir: string, entry: CheckpointEntry): Promise<string | undefined> {
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

  private async fingerprintOf(path: string): Promise<FileFingerprint | undefined> {
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
   * any regular file in the directory that is not being tailed and has no checkpoint is new to us.
   */
  private async findUnseenSiblings(realPath: string): Promise<void> {
    const dir = dirname(realPath);
    const stem = basename(realPath).replace(/\.log$/, '');
    const file = [...this.files.values()].find((f) => f.realPath === realPath);
    const input = this.inputNamed(file?.input);
    if (input === undefined || file === undefined) return;
    const knownContent = new Set<string>();
    for (const f of this.files.values()) knownContent.add(f.fingerprint.fingerprint);
    for (const entry of this.options.checkpoints.all()) knownContent.add(entry.fingerprint);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!name.startsWith(stem) || name.endsWith('.gz') || name.endsWith('.tmp')) continue;
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info === undefined || !info.isFile()) continue;
      const fingerprint = await this.fingerprintOf(path);
      if (fingerprint === undefined) continue;
      const key = identityKey(fingerprint);
      if (this.files.has(key) || this.options.checkpoints.get(key) !== undefined) {
        if (fingerprint.ino === file.fingerprint.ino) file.realPath = path;
        continue;
      }
      // Older rotations (written before this file was opened) and copies of content already read are not new.
      if (info.mtimeMs < file.openedAtMs || knownContent.has(fingerprint.fingerprint)) continue;
      const origin = this.options.checkpoints.get(file.key)?.origin;
      const entry: CheckpointEntry = {
        key,
        path,
        dev: fingerprint.dev,
        ino: fingerprint.ino,
        fingerprint: fingerprint.fingerprint,
        offset: 0,
        idPrefix: idPrefixFor(this.options.nodeName, fingerprint),
        origin,
        input: input.name,
        displayPath: file.context.path,
        updatedAt: Date.now(),
      };
      // Only files that are neither the current file at the glob path nor already known get here.
      const current = await stat(file.path).catch(() => undefined);
      if (current !== undefined && current.ino === fingerprint.ino) continue;
      this.stats.missedRotations++;
      await this.openFile(input, path, 'beginning', { entry, realPath: path });
    }
  }

  /**
   * Forget checkpoints of files that were read to the end and have since left the disk, and of contents
   * replaced in place (truncated, then rewritten with another first line).
   */
  private async pruneDone(): Promise<void> {
    const checkpoints = this.options.checkpoints;
    const openPaths = new Set<string>();
    for (const file of this.files.values()) openPaths.add(file.realPath);
    for (const entry of checkpoints.all()) {
      if (this.files.has(entry.key) || entry.cursor !== undefined) continue;
      if (!entry.done) {
        if (openPaths.has(entry.path)) checkpoints.forget(entry.key);
        continue;
      }
      const info = await stat(entry.path).catch(() => undefined);
      if (info !== undefined && info.ino === entry.ino && info.dev === entry.dev) continue;
      const moved = await this.findInDirectory(dirname(entry.path), entry);
      if (moved !== undefined) entry.path = moved;
      else checkpoints.forget(entry.key);
    }
  }

  /** Bytes not yet committed, summed over open files (file size minus committed offset). */
  bytesBehind(): number {
    let total = 0;
    for (const file of this.files.values()) {
      const committed = file.acks.committed ?? this.options.checkpoints.get(file.key)?.offset ?? 0;
      total += Math.max(0, file.knownSize - committed);
    }
    return total;
  }

  /** Bytes held by deleted files kept open until drained. */
  deletedBytesHeld(): number {
    let total = 0;
    for (const file of this.files.values()) if (file.nlink === 0) total += file.knownSize;
    return total;
  }
}

export type { LogRecord };
