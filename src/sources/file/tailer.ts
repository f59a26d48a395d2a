/**
 * The one tailer behind every file source (container logs, component logs, sidecar files).
 *
 * It finds files by glob (fs.watch for speed, a periodic rescan because watch events get lost), reads
 * them round-robin a chunk at a time (fairness), stops reading when the in-flight budget is spent
 * (backpressure), follows rename and copytruncate rotation, drains rotated and deleted files to their end,
 * and moves checkpoints only as far as the sink has acknowledged.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import type { InflightBudget } from '../../agent/budget.js';
import type { CheckpointEntry, CheckpointStore } from '../../checkpoint/store.js';
import type { LogRecord } from '../../event/record.js';
import { createFileParser, type FileParserOptions } from '../../parsers/file-parser.js';
import { expandGlob, globBase } from './glob.js';
import { identify, identityKey, idPrefixFor } from './identity.js';
import { ReadBuffer, TailedFile, type ChunkSink } from './tailed-file.js';
import type { FileContext, Metadata } from '../../event/record.js';
import { TailerStats } from './stats.js';
import { ParserTotals } from './parser-totals.js';
import { Recovery, type RecoveryHost } from './recovery.js';
import { FileProblems } from './file-problems.js';

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
  /** the clock records without a time of their own are stamped with (tests move it past midnight) */
  now?: () => number;
}

const EOF_CHECK_INTERVAL_MS = 1000;
/**
 * A runtime writes on to a file it renamed until it reopens its log (containerd does when the kubelet asks,
 * after the rename), so a rotated file is closed only once it has stayed at its end this long, counted from
 * when the rotation was noticed. Fluent Bit's in_tail waits the same way (rotate_wait, 5 s by default).
 */
const ROTATED_FILE_WAIT_MS = 5000;
const IDLE_WAIT_MS = 250;
/** watch events ask for a rescan; a busy directory must not turn that into one per loop */
const MIN_RESCAN_GAP_MS = 100;

export class Tailer implements RecoveryHost {
  readonly files = new Map<string, TailedFile>();
  /**
   * Files read to their end and closed whose records are not all acknowledged yet. Their checkpoint is
   * marked done only when the last one is: until then a restart must read them again from the committed offset.
   */
  readonly settling = new Map<string, TailedFile>();
  private readonly byPath = new Map<string, TailedFile>();
  private readonly watchers: FSWatcher[] = [];
  private stopping = false;
  private wake: (() => void) | undefined;
  private lastRescanMs = 0;
  private rescanRequested = true;
  private opening = new Set<string>();
  readonly stats = new TailerStats();
  /** parser outcomes of closed files (open files' parsers are read at scrape time) */
  readonly parserTotals = new ParserTotals();
  /** files left out and lines cut: logged once per file, summed up by a oneshot run */
  readonly problems: FileProblems;
  private loopDone: Promise<void> | undefined;
  private readonly readBuffer = new ReadBuffer();
  /** resolved by stop(): wakes a loop waiting for budget */
  private stopSignal!: Promise<void>;
  private signalStop: () => void = () => undefined;
  private lastMoveCheckMs = 0;
  /** when this run began to look for files: rotated siblings of a new file written since then are new too */
  private startedAtMs = Date.now();

  private readonly recovery: Recovery;

  constructor(readonly options: TailerOptions) {
    this.recovery = new Recovery(this);
    this.problems = new FileProblems(this.stats, options.maxRecordBytes, (message, context) => options.onError?.(message, context));
  }

  /** Start reading; resolves when the loop ends (stop(), or end of input in oneshot mode). */
  start(): Promise<void> {
    this.startedAtMs = Date.now();
    this.stopSignal = new Promise((resolve) => (this.signalStop = resolve));
    this.loopDone = this.loop();
    return this.loopDone;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.signalStop();
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
    const previousScan = this.options.checkpoints.previousScannedAt;
    await this.recovery.recoverCheckpoints();
    if (previousScan !== undefined) await this.recovery.recoverUnseenRotations(previousScan);
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
          await this.waitForRoom();
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
          if (file.state === 'active') file.flushIdle(Date.now(), sink);
        }
      }
      const now = Date.now();
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

  /**
   * The in-flight budget is spent: wait for room, but keep finding files meanwhile. Discovery must not
   * depend on reading capacity — a pod created during an outage, or a rotation meanwhile, is registered
   * at offset 0 (and held open) now, and read when room comes back.
   */
  private async waitForRoom(): Promise<void> {
    const { budget, rescanIntervalMs } = this.options;
    while (!this.stopping) {
      const room = await Promise.race([budget.waitForRoomUpTo(rescanIntervalMs), this.stopSignal.then(() => true)]);
      if (room || this.stopping) return;
      await this.rescan(false);
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
      if (this.options.oneshot || now - Math.max(file.drainingSinceMs, file.quietSinceMs) >= ROTATED_FILE_WAIT_MS) return this.finish(file, 'drained');
      return;
    }
    // fstat at every end of file (cheap): a copytruncate must be seen before the file grows back past us.
    const own = await file.handle.stat().catch(() => undefined);
    if (own === undefined) return this.finish(file, 'unreadable');
    file.knownSize = own.size;
    file.nlink = own.nlink;
    if (own.size < file.readPos) {
      this.stats.truncations++;
      const copied = await this.recovery.drainCopy(file);
      await this.finish(file, copied ? 'replaced' : 'truncated');
      this.restartIdentity(file);
      this.rescanRequested = true;
      return;
    }
    if (own.size > file.readPos) return; // grew meanwhile: read on
    if (!this.options.oneshot && now - file.lastCheckMs < EOF_CHECK_INTERVAL_MS) return;
    file.lastCheckMs = now;
    if (await this.movedAway(file)) await this.startDraining(file);
  }

  /** The path no longer leads to this file (renamed away or deleted). */
  private async movedAway(file: TailedFile): Promise<boolean> {
    const current = await stat(file.path).catch(() => undefined);
    return current === undefined || current.ino !== file.fingerprint.ino || current.dev !== file.fingerprint.dev;
  }

  /** Renamed away or deleted: whatever the writer added before that is still read, then the file is closed. */
  private async startDraining(file: TailedFile): Promise<void> {
    file.state = 'draining';
    file.drainingSinceMs = Date.now();
    this.byPath.delete(file.path);
    this.stats.rotations++;
    this.rescanRequested = true;
    await this.recovery.findUnseenSiblings(file.realPath);
  }

  /**
   * Rotations noticed by a look at each path, not only when the reader reaches a file's end: a reader far
   * behind (or held back by the budget) would otherwise leave the new file unopened while it rotates too.
   */
  private async noticeMovedFiles(): Promise<void> {
    this.lastMoveCheckMs = Date.now();
    for (const file of [...this.byPath.values()]) {
      if (file.state === 'active' && (await this.movedAway(file))) await this.startDraining(file);
    }
  }

  private async finish(file: TailedFile, reason: 'drained' | 'truncated' | 'replaced' | 'unreadable'): Promise<void> {
    if (file.state === 'closed') return;
    // 'replaced': a copy carries on from where this file's records stop, so what the parser holds is re-read there.
    if (reason !== 'replaced') file.flushAll(this.options.sink, reason !== 'truncated');
    file.state = 'closed';
    this.parserTotals.retire(file.parser.counters);
    this.files.delete(file.key);
    if (this.byPath.get(file.path) === file) this.byPath.delete(file.path);
    await file.handle.close().catch(() => undefined);
    this.inputNamed(file.input)?.closed?.(file.origin);
    if (reason === 'drained' || reason === 'unreadable') {
      // Done only once every record read from it is acknowledged (see onCommit): a restart before that
      // reads it on from its committed offset. The entry follows the file to where it now is.
      this.options.checkpoints.relocate(file.key, file.realPath);
      if (file.acks.outstanding === 0) this.options.checkpoints.markDone(file.key, file.realPath);
      else this.settling.set(file.key, file);
    }
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
    checkpoints.set(
      { ...entry, offset: 0, generation, idPrefix: idPrefixFor(this.options.nodeName, file.fingerprint, generation), done: false, updatedAt: Date.now() },
      true,
    );
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
    const startedAt = (this.lastRescanMs = Date.now());
    if (!initial && this.lastRescanMs - this.lastMoveCheckMs >= this.options.rescanIntervalMs) await this.noticeMovedFiles();
    let opened = 0;
    for (const input of this.options.inputs) {
      for (const pattern of input.patterns) {
        const paths = await expandGlob(pattern);
        await this.problems.noteMatches(pattern, paths);
        for (const path of paths) {
          if (this.byPath.has(path)) continue;
          const readFrom = initial && this.options.firstStart ? input.readFrom : 'beginning';
          if (!(await this.openFile(input, path, readFrom))) continue;
          opened++;
          // A file new to this run may have rotated before it was seen (created and rotated within one look,
          // while reading was held back, or between the start's recovery and this first scan): its rotated
          // siblings written since the run began are read too (on the first scan, since the previous run's
          // last look, and all of them at a first start). Not when a first start was told to read only new lines.
          const file = this.byPath.get(path);
          if (file !== undefined && readFrom === 'beginning') await this.recovery.findUnseenSiblings(file.realPath, this.siblingsSince(initial));
        }
      }
    }
    // Also after the first scan: a file left to it by recovery (still in place then) may have rotated away
    // before the scan came, and is found again by its identity (see pruneDone).
    await this.recovery.pruneDone();
    this.options.checkpoints.markScanned(startedAt);
    // New files are recorded right away, so a crash before the next periodic save cannot forget them.
    if (opened > 0 && !initial) this.options.checkpoints.flush();
  }

  /** Rotated siblings modified since this are new to the run (see rescan). */
  private siblingsSince(initial: boolean): number {
    if (!initial) return this.startedAtMs - 1000;
    // A first start reading from the beginning reads what the node still keeps of each container: the
    // kubelet's last rotated file (not yet compressed) too, not only the current one.
    if (this.options.firstStart) return 0;
    const previous = this.options.checkpoints.previousScannedAt;
    return Math.min(previous ?? this.startedAtMs, this.startedAtMs) - 1000;
  }

  inputNamed(name: string | undefined): FileInput | undefined {
    return this.options.inputs.find((input) => input.name === name);
  }

  /** Open a file found by a glob (or found again by its identity); returns false if it was not opened. */
  async openFile(input: FileInput, path: string, readFrom: 'beginning' | 'end', known?: { entry: CheckpointEntry; realPath: string }): Promise<boolean> {
    if (this.opening.has(path)) return false;
    this.opening.add(path);
    let handle: FileHandle | undefined;
    try {
      const realPath = known?.realPath ?? (await realpath(path));
      handle = await open(realPath, 'r');
      const info = await handle.stat();
      if (!info.isFile()) return false;
      const fingerprint = await identify(handle, info.dev, info.ino, info.size);
      if (fingerprint === undefined) {
        // First line incomplete: tried again at the next scan. A oneshot run ends before that, so it says so.
        if (this.options.oneshot && info.size > 0)
          this.problems.skipped(path, 'incomplete', `no newline in its first ${info.size} bytes: a file is read from its first complete line`);
        return false;
      }
      const key = identityKey(fingerprint);
      if (this.files.has(key)) return false;
      const checkpoints = this.options.checkpoints;
      const entry = known?.entry ?? checkpoints.get(key);
      // Done means read to the end and acknowledged; an entry short of the file's end is read on whatever its flag says.
      if (entry?.done && entry.offset >= info.size) return false;
      if (await this.problems.skipIfBinary(handle, info.size, path)) return false;
      const description = input.describe(path, realPath, entry?.origin);
      if (description === undefined) return false;
      let generation = entry?.generation ?? 0;
      let offset = entry?.offset ?? (readFrom === 'end' ? info.size : 0);
      if (entry !== undefined && entry.offset > info.size) {
        generation++; // truncated while we were away and rewritten with the same first line
        offset = 0;
      }
      const idPrefix =
        entry !== undefined && generation === (entry.generation ?? 0) ? entry.idPrefix : idPrefixFor(this.options.nodeName, fingerprint, generation);
      const displayPath = known ? (entry?.displayPath ?? input.displayPath(realPath)) : input.displayPath(path);
      const context: FileContext = { path: displayPath, pathJson: JSON.stringify(displayPath), idPrefix, meta: description.meta };
      const parser = createFileParser({
        ...description.parser,
        file: context,
        maxRecordBytes: this.options.maxRecordBytes,
        now: description.parser.now ?? this.options.now,
      });
      const file = new TailedFile(handle, path, realPath, input.name, fingerprint, key, context, parser, offset, (f, position, released) =>
        this.onCommit(f, position, released),
      );
      file.knownSize = info.size;
      if (known) {
        file.state = 'draining';
        file.drainingSinceMs = Date.now();
        this.stats.foundAgain++;
      }
      checkpoints.set(
        {
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
          openedAt: entry?.openedAt ?? Date.now(),
        },
        true,
      );
      this.files.set(key, file);
      if (!known) this.byPath.set(path, file);
      file.origin = description.origin;
      input.opened?.(description.origin);
      this.stats.opened++;
      this.problems.opened(path);
      file.onCut = this.problems.cutReporter(displayPath);
      handle = undefined;
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        this.stats.errors++;
        this.problems.skipped(path, FileProblems.reasonOf(error), (error as Error).message);
      }
      return false;
    } finally {
      this.opening.delete(path);
      if (handle !== undefined) await handle.close().catch(() => undefined);
    }
  }

  private onCommit(file: TailedFile, position: number, releasedBytes: number): void {
    this.options.budget.release(releasedBytes);
    if (file.detached) return;
    const checkpoints = this.options.checkpoints;
    checkpoints.update(file.key, position);
    if (file.state === 'closed' && file.acks.outstanding === 0 && this.settling.delete(file.key)) checkpoints.markDone(file.key, file.realPath);
  }

  /** Batches read and not yet acknowledged, over open files and files closed but not settled. */
  undeliveredBatches(): number {
    let total = 0;
    for (const file of this.files.values()) total += file.acks.outstanding;
    for (const file of this.settling.values()) total += file.acks.outstanding;
    return total;
  }

  /** Bytes not yet committed, summed over open files and files closed but not settled (size minus committed offset). */
  bytesBehind(): number {
    let total = 0;
    for (const file of [...this.files.values(), ...this.settling.values()]) {
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
