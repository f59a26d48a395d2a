/**
 * Checkpoints: the committed read position of every file (or cursor of every journal), by identity.
 *
 * One JSON document, versioned, replaced atomically (write tmp, fsync, rename, fsync the directory), so a
 * crash leaves either the old or the new file, never a torn one. Positions only ever come from
 * acknowledged batches (see agent/acks.ts), so a restart re-reads at most what was not yet acknowledged.
 */
import { mkdirSync, openSync, closeSync, fsyncSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const CHECKPOINT_FORMAT_VERSION = 1;

export interface CheckpointEntry {
  /** identity key: `${dev}:${ino}:${fingerprint}` for files, a stream name for journald */
  key: string;
  /** last known real path (for finding a file again among its rotated siblings) */
  path: string;
  dev: number;
  ino: number;
  fingerprint: string;
  /** byte offset (files) — everything before it was acknowledged */
  offset: number;
  /** cursor for non-file sources (journald) */
  cursor?: string;
  /** base of record ids, kept so a file found again under another name keeps its ids */
  idPrefix: string;
  /** what the file name told about the record origin, kept for files found again under rotated names */
  origin?: Record<string, string>;
  /** which input the file belongs to (containers, components, files) */
  input?: string;
  /** `log.file.path` shown for its records */
  displayPath?: string;
  /** bumped when the same identity is truncated, so re-written offsets get new ids */
  generation?: number;
  /**
   * read to its end, closed, and every record acknowledged; kept until the file leaves the disk so a rescan
   * never re-reads it. An entry whose offset is short of its file's size is read on whatever this says.
   */
  done?: boolean;
  /** when the agent first opened the file (ms): siblings written after it in the same directory are new */
  openedAt?: number;
  updatedAt: number;
}

interface CheckpointFile {
  version: number;
  /** when the file was last written (ms since epoch) */
  savedAt?: number;
  /**
   * when the last complete look for files began (ms): files that appeared after it may never have been
   * seen. Not savedAt: checkpoints are still saved while a shutdown waits for acknowledgements, long after
   * the tailer stopped looking.
   */
  scannedAt?: number;
  entries: CheckpointEntry[];
}

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

export class CheckpointStore {
  private readonly entries = new Map<string, CheckpointEntry>();
  private dirty = false;
  private writes = 0;
  readonly path: string;
  /** when the previous run last saved (undefined: there was no previous run) */
  readonly previousSavedAt: number | undefined;
  /**
   * when the previous run's last complete look for files began (its last save for files written before
   * this was recorded; undefined: there was no previous run)
   */
  readonly previousScannedAt: number | undefined;
  /** this run's: see {@link markScanned} */
  private scannedAt: number | undefined;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'checkpoints.json');
    mkdirSync(dataDir, { recursive: true });
    const previous = this.load();
    this.previousSavedAt = previous?.savedAt;
    this.previousScannedAt = previous?.scannedAt;
    this.scannedAt = this.previousScannedAt;
  }

  private load(): { savedAt: number; scannedAt: number } | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CheckpointError(`cannot read checkpoints ${this.path}: ${(error as Error).message}`);
    }
    let parsed: CheckpointFile;
    try {
      parsed = JSON.parse(text) as CheckpointFile;
    } catch (error) {
      throw new CheckpointError(
        `checkpoints ${this.path} are not valid JSON (${(error as Error).message}); move the file away to start over (files would be re-read from the beginning)`,
      );
    }
    if (parsed.version !== CHECKPOINT_FORMAT_VERSION || !Array.isArray(parsed.entries)) {
      throw new CheckpointError(
        `checkpoints ${this.path}: unsupported format version ${String(parsed.version)} (this logferry reads ${CHECKPOINT_FORMAT_VERSION})`,
      );
    }
    for (const entry of parsed.entries) this.entries.set(entry.key, entry);
    const savedAt = parsed.savedAt ?? 0;
    return { savedAt, scannedAt: parsed.scannedAt ?? savedAt };
  }

  /**
   * A look for files that began at `startedAtMs` is complete. Rides along with the next save (not a
   * reason to write): a restart that reads an older value only looks further back.
   */
  markScanned(startedAtMs: number): void {
    this.scannedAt = startedAtMs;
  }

  get(key: string): CheckpointEntry | undefined {
    return this.entries.get(key);
  }

  all(): CheckpointEntry[] {
    return [...this.entries.values()];
  }

  /** Record a committed position (in memory; {@link flush} persists it). `replace` allows a reset (truncation). */
  set(entry: CheckpointEntry, replace = false): void {
    const current = this.entries.get(entry.key);
    if (
      !replace &&
      current &&
      current.cursor === undefined &&
      entry.cursor === undefined &&
      entry.offset < current.offset &&
      current.fingerprint === entry.fingerprint
    ) {
      // Positions never go backwards for the same content; a regression is a bug, not a reason to re-ship.
      return;
    }
    this.entries.set(entry.key, entry);
    this.dirty = true;
  }

  update(key: string, offset: number, cursor?: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    if (cursor === undefined && offset <= entry.offset) return;
    entry.offset = offset;
    if (cursor !== undefined) entry.cursor = cursor;
    entry.updatedAt = Date.now();
    this.dirty = true;
  }

  /** The file now lives at `path` (renamed by a rotation). */
  relocate(key: string, path: string): void {
    const entry = this.entries.get(key);
    if (!entry || entry.path === path) return;
    entry.path = path;
    entry.updatedAt = Date.now();
    this.dirty = true;
  }

  markDone(key: string, path: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.done = true;
    entry.path = path;
    entry.updatedAt = Date.now();
    this.dirty = true;
  }

  forget(key: string): void {
    if (this.entries.delete(key)) this.dirty = true;
  }

  get writeCount(): number {
    return this.writes;
  }

  /**
   * Persist if anything changed (or always, with `force`). Synchronous on purpose: it is small, and
   * shutdown paths call it last.
   */
  flush(force = false): void {
    if (!this.dirty && !force) return;
    const body: CheckpointFile = { version: CHECKPOINT_FORMAT_VERSION, savedAt: Date.now(), scannedAt: this.scannedAt, entries: [...this.entries.values()] };
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, JSON.stringify(body));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    try {
      const dirFd = openSync(dirname(this.path), 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    } catch {
      // Some filesystems refuse fsync on directories; the rename is still atomic.
    }
    this.dirty = false;
    this.writes++;
  }
}
