/**
 * The data directory, checked before the agent reads anything: every directory the agent writes is
 * created (or found) and written to once, and every file it replaces is a file. A problem is a
 * UsageError (exit 2) with one line naming the path, the reason and what to do — never a stack trace
 * from deep inside the checkpoint store or SQLite, and never Node's recursive mkdir, which loops forever
 * under /proc (mkdir there fails with ENOENT, which it reads as "create the parent first").
 */
import { closeSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config/load.js';
import { UsageError } from './errors.js';
import { lockDataDir, type DataDirLock, type LockOptions } from './data-dir-lock.js';

/** Files the agent replaces in the data directory (checkpoint/store.ts): a directory there fails every write. */
const REPLACED_FILES = ['checkpoints.json', 'checkpoints.json.tmp'];

function code(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/** Why an operation on a path failed, in words, from its errno code. */
function reason(error: unknown, creating: boolean): string {
  const errno = code(error);
  switch (errno) {
    case 'EROFS':
      return 'the file system is read-only (EROFS)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${errno})`;
    case 'ENOTDIR':
      return `a part of the path is a file, not a directory (${errno})`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `no space left (${errno})`;
    case 'ENOENT':
      // The parent exists (checked first): only a virtual file system (/proc, /sys) answers this way.
      return creating ? 'this file system does not allow creating it (ENOENT: a virtual file system such as /proc or /sys?)' : 'it does not exist (ENOENT)';
    case 'ENAMETOOLONG':
      return 'the path is too long (ENAMETOOLONG)';
    default:
      return `${(error as Error).message}`;
  }
}

class DataDirProblem {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {}
}

/** Create `dir` and any missing parents one level at a time, so every failure names its level. */
function ensureDirectory(dir: string): void {
  const missing: string[] = [];
  let current = dir;
  for (;;) {
    try {
      if (!statSync(current).isDirectory()) throw new DataDirProblem(current, 'it is a file, not a directory (it must be a directory or not exist)');
      break;
    } catch (error) {
      if (error instanceof DataDirProblem) throw error;
      // ENOTDIR: an ancestor is a file; walking up finds it, so the message names that file.
      if (code(error) !== 'ENOENT' && code(error) !== 'ENOTDIR') throw new DataDirProblem(current, `cannot look at it: ${reason(error, false)}`);
      const parent = dirname(current);
      if (parent === current) throw new DataDirProblem(current, 'the file system root does not exist');
      missing.push(current);
      current = parent;
    }
  }
  for (const path of missing.reverse()) {
    try {
      mkdirSync(path);
    } catch (error) {
      if (code(error) === 'EEXIST' && statSync(path).isDirectory()) continue; // created meanwhile by someone else
      throw new DataDirProblem(path, `cannot create the directory: ${reason(error, true)}`);
    }
  }
}

/** Create, write and remove a small file: the only check that root, read-only mounts and ACLs all answer. */
function probeWrite(dir: string): void {
  const probe = join(dir, `.logferry-write-test-${process.pid}`);
  let fd: number;
  try {
    fd = openSync(probe, 'wx');
  } catch (error) {
    if (code(error) === 'EEXIST') return probeWriteAfterRemoving(probe, dir);
    throw new DataDirProblem(dir, `cannot write in it: ${reason(error, true)}`);
  }
  try {
    writeSync(fd, 'logferry\n');
  } catch (error) {
    throw new DataDirProblem(dir, `cannot write in it: ${reason(error, true)}`);
  } finally {
    closeSync(fd);
    try {
      unlinkSync(probe);
    } catch {
      // Leaving a 9-byte file behind is no reason to refuse to start.
    }
  }
}

/** A probe left by a killed process with our pid (pid 1 in every container): remove it and try once more. */
function probeWriteAfterRemoving(probe: string, dir: string): void {
  try {
    unlinkSync(probe);
  } catch (error) {
    throw new DataDirProblem(dir, `cannot write in it: ${reason(error, true)}`);
  }
  probeWrite(dir);
}

function mustBeFileIfPresent(path: string): void {
  try {
    if (!statSync(path).isFile()) throw new DataDirProblem(path, 'it is not a regular file (the agent replaces it with a new file)');
  } catch (error) {
    if (error instanceof DataDirProblem) throw error;
    if (code(error) !== 'ENOENT') throw new DataDirProblem(path, `cannot look at it: ${reason(error, false)}`);
  }
}

/** The directories the agent writes with this configuration: checkpoints, and the local store if it is the output. */
export function writableDirectories(config: Config): string[] {
  const dataDir = resolve(config.dataDir);
  return config.output.kind === 'local' ? [dataDir, join(dataDir, 'store')] : [dataDir];
}

/**
 * Check (and create) every directory the agent writes; throws a UsageError naming the path, the reason,
 * and where the data directory came from.
 */
export function checkDataDir(config: Config): void {
  const from = config.dataDirFrom ?? 'the data directory';
  if (config.dataDir === '') throw new UsageError(`${from}: the data directory is empty; give a directory the agent may write`);
  try {
    for (const dir of writableDirectories(config)) {
      ensureDirectory(dir);
      probeWrite(dir);
    }
    for (const file of REPLACED_FILES) mustBeFileIfPresent(join(resolve(config.dataDir), file));
  } catch (caught) {
    // An errno error nobody foresaw (a race with another process) is still one line about the directory.
    const error =
      caught instanceof DataDirProblem || !(caught as NodeJS.ErrnoException).code ? caught : new DataDirProblem(config.dataDir, reason(caught, false));
    if (!(error instanceof DataDirProblem)) throw error;
    throw new UsageError(
      `data directory ${config.dataDir} (${from}): ${error.path}: ${error.problem}; ` +
        'choose a writable directory on a real disk with --data-dir (or LOGFERRY_DATA_DIR, or dataDir in the config file)',
    );
  }
}

/** What the commands that run the agent do when the lock waits or is lost: plain lines on stderr. */
const defaultLockOptions: LockOptions = {
  onWait: (message) => process.stderr.write(`logferry: ${message}\n`),
  onLost: (message) => {
    process.stderr.write(`logferry: ${message}\n`);
    // Not a graceful stop: its final checkpoint flush would overwrite the new owner's checkpoints. Exiting
    // now is what kill -9 does, which the agent is built to survive (the new owner re-reads; replays are harmless).
    process.exit(1);
  },
};

/**
 * Everything the agent needs before it starts: the data directory checked and locked. Run before the
 * agent reads anything; the lock is released when the process exits.
 */
export async function claimDataDir(config: Config, options: LockOptions = defaultLockOptions): Promise<DataDirLock> {
  checkDataDir(config);
  const lock = await lockDataDir(resolve(config.dataDir), options);
  process.once('exit', () => lock.release());
  return lock;
}

/** Configuration warnings (deprecated keys), one `logferry: warning:` line each. */
export function printConfigWarnings(config: Config): void {
  for (const warning of config.warnings ?? []) process.stderr.write(`logferry: warning: ${warning}\n`);
}
