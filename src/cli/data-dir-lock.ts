/**
 * One agent per data directory. Two agents on one directory overwrite each other's checkpoints (and the
 * second re-reads everything), so the first takes `logferry.lock` and a second one is refused.
 *
 * The lock is a file created with O_EXCL holding its owner's identity. Node has no flock/fcntl without a
 * native module, so a lock left by a killed agent (kill -9, OOM kill: the DaemonSet restarts it at once)
 * is recognised as stale and taken over:
 * - another boot id and the same host name: the machine restarted, the owner is gone;
 * - the same PID namespace: the owner lives iff its pid exists *and* started at the recorded time — pids
 *   are reused, and in a container the agent gets the same small pid at every start;
 * - another PID namespace (another container, or this container before its restart) or another machine:
 *   the pid means nothing here, so the owner touches the file every `heartbeatMs`; a lock whose time does
 *   not move for `staleMs` is stale, one whose time moves belongs to a live agent. (The kernel reuses the
 *   inode numbers of dead namespaces; a reused one compares as "the same namespace", where the pid and
 *   start time then show the owner is gone.)
 * Taking over a stale lock is serialised by a short-lived second lock file, so two agents restarting at
 * once cannot both win. An owner that finds its lock taken (it was frozen longer than `staleMs`) stops at
 * once without writing: the new owner re-reads from the checkpoints it found, and replays are harmless.
 */
import { closeSync, fsyncSync, openSync, readFileSync, readlinkSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UsageError } from './errors.js';

export const LOCK_FILE = 'logferry.lock';

export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
  /** /proc/sys/kernel/random/boot_id */
  bootId?: string;
  /** /proc/self/ns/pid, e.g. `pid:[4026531836]` */
  pidNamespace?: string;
  /** start time of the process in clock ticks since boot (/proc/PID/stat field 22) */
  startTicks?: number;
  /** tells this lock from any other, even one with the same pid */
  nonce: string;
}

export interface LockOptions {
  /** how often the owner touches the lock file (ms); default 2000 */
  heartbeatMs?: number;
  /** a lock from another PID namespace untouched this long is stale (ms); default 10000 */
  staleMs?: number;
  /** a line to show while waiting to learn whether a lock from another PID namespace is stale */
  onWait?(message: string): void;
  /** the lock was taken over by another agent: stop now, without writing anything */
  onLost(message: string): void;
}

export interface DataDirLock {
  readonly path: string;
  readonly owner: LockOwner;
  release(): void;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** State letter (field 3) and start time in clock ticks since boot (field 22) of `pid`, from /proc. */
function procStat(pid: number): { state: string; startTicks: number } | undefined {
  const stat = readOptional(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // Field 2 (the command) is in parentheses and may hold spaces: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTicks = Number(fields[19]);
  return Number.isFinite(startTicks) ? { state: fields[0], startTicks } : undefined;
}

export function processStartTicks(pid: number): number | undefined {
  return procStat(pid)?.startTicks;
}

/** Does the process that wrote `owner` still run here? Its pid must exist, not as a zombie, with its start time. */
function ownerRuns(owner: LockOwner): boolean {
  if (!processExists(owner.pid)) return false;
  const stat = procStat(owner.pid);
  if (stat === undefined) return true; // no /proc (not Linux): the pid is all there is to go by
  // A killed agent is a zombie until its parent reaps it: it holds nothing and will never write again.
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return owner.startTicks === undefined || stat.startTicks === owner.startTicks;
}

function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

export function currentOwner(): LockOwner {
  return {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    bootId: readOptional('/proc/sys/kernel/random/boot_id'),
    pidNamespace: pidNamespace(),
    startTicks: processStartTicks(process.pid),
    nonce: randomBytes(8).toString('hex'),
  };
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describe(owner: LockOwner): string {
  return `pid ${owner.pid} on host ${owner.host}, running since ${owner.startedAt}`;
}

function unlinkOptional(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The lock file as found: its text, inode and time (an owner from another PID namespace moves the time). */
interface Found {
  text: string;
  ino: number;
  mtimeMs: number;
  owner?: LockOwner;
}

function find(path: string): Found | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    const { ino, mtimeMs } = statSync(path);
    let owner: LockOwner | undefined;
    try {
      const parsed = JSON.parse(text) as LockOwner;
      if (typeof parsed.pid === 'number' && typeof parsed.nonce === 'string') owner = parsed;
    } catch {
      // Empty or torn: created but not yet written, or a crash in between (judged below).
    }
    return { text, ino, mtimeMs, owner };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** live: refuse; stale: take over; retry: the file changed while it was judged, look again. */
type Verdict = { is: 'stale' } | { is: 'retry' } | { is: 'live'; message: string };

export class DataDirLocker {
  private readonly path: string;
  private readonly heartbeatMs: number;
  private readonly staleMs: number;

  constructor(
    private readonly dir: string,
    private readonly options: LockOptions,
    private readonly me: LockOwner = currentOwner(),
  ) {
    this.path = join(dir, LOCK_FILE);
    this.heartbeatMs = options.heartbeatMs ?? 2000;
    this.staleMs = options.staleMs ?? 10_000;
  }

  async acquire(): Promise<DataDirLock> {
    try {
      return await this.tryAcquire();
    } catch (error) {
      if (error instanceof UsageError) throw error;
      // An unreadable lock file, a directory removed meanwhile: still one line naming the file, not a stack.
      throw new UsageError(`data directory ${this.dir}: cannot use the lock file ${this.path}: ${(error as Error).message}`);
    }
  }

  private async tryAcquire(): Promise<DataDirLock> {
    for (let attempt = 0; attempt < 50; attempt++) {
      if (this.create()) return this.held();
      const found = find(this.path);
      if (found === undefined) continue; // released meanwhile
      const verdict = await this.judge(found);
      if (verdict.is === 'retry') continue;
      if (verdict.is === 'live') {
        throw new UsageError(
          `data directory ${this.dir} is in use by another logferry agent (${verdict.message}; lock file ${this.path}): ` +
            "two agents on one data directory overwrite each other's checkpoints; stop the other agent or give this one another --data-dir",
        );
      }
      await this.takeOver(found);
    }
    throw new UsageError(`data directory ${this.dir}: cannot take the lock ${this.path} (other agents keep taking it); retry, or stop them`);
  }

  /** O_EXCL: true when this process now owns the lock. */
  private create(): boolean {
    let fd: number;
    try {
      fd = openSync(this.path, 'wx', 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new UsageError(`data directory ${this.dir}: cannot create the lock file ${this.path}: ${(error as Error).message}`);
    }
    try {
      writeSync(fd, JSON.stringify(this.me) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  private async judge(found: Found): Promise<Verdict> {
    const owner = found.owner;
    if (owner === undefined) {
      // Its creator writes right after creating: give it a moment; after a second it is a crash's leftover.
      if (Date.now() - found.mtimeMs > 1000) return { is: 'stale' };
      await delay(200);
      return { is: 'retry' };
    }
    if (owner.bootId !== undefined && this.me.bootId !== undefined && owner.bootId !== this.me.bootId) {
      // Same host name: this machine rebooted, its owner is gone. Another name: maybe another machine
      // sharing the directory (NFS), where only the heartbeat can tell.
      return owner.host === this.me.host ? { is: 'stale' } : this.watchHeartbeat(found, owner);
    }
    const sameNamespace =
      owner.pidNamespace !== undefined && this.me.pidNamespace !== undefined ? owner.pidNamespace === this.me.pidNamespace : owner.host === this.me.host;
    if (sameNamespace) {
      return ownerRuns(owner) ? { is: 'live', message: describe(owner) } : { is: 'stale' };
    }
    return this.watchHeartbeat(found, owner);
  }

  /** Another PID namespace: live iff the owner touches the file before `staleMs` pass without it. */
  private async watchHeartbeat(found: Found, owner: LockOwner): Promise<Verdict> {
    const message = `${describe(owner)}, in another container or PID namespace`;
    if (Date.now() - found.mtimeMs <= this.staleMs) {
      this.options.onWait?.(
        `data directory ${this.dir} is locked by ${message}; waiting up to ${Math.ceil(this.staleMs / 1000)} s to see whether it still runs`,
      );
    }
    // Also bounded by our own watch: a time in the future (a clock set back) must not make us wait longer.
    const watchUntil = Date.now() + this.staleMs;
    while (Date.now() - found.mtimeMs <= this.staleMs && Date.now() < watchUntil) {
      await delay(Math.min(250, this.heartbeatMs / 2));
      const now = find(this.path);
      if (now === undefined || now.ino !== found.ino || now.text !== found.text) return { is: 'retry' }; // released or replaced
      if (now.mtimeMs !== found.mtimeMs) return { is: 'live', message: `${message}; it keeps its lock fresh` };
    }
    return { is: 'stale' };
  }

  /** Remove the stale lock `found`, unless another agent replaced it meanwhile; serialised by `.takeover`. */
  private async takeOver(found: Found): Promise<void> {
    const mutex = `${this.path}.takeover`;
    let fd: number;
    try {
      fd = openSync(mutex, 'wx', 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Another agent is taking over (a few ms); its mutex outliving 5 s means it died doing so.
      const age = Date.now() - (statSync(mutex, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 5000) unlinkOptional(mutex);
      await delay(100);
      return;
    }
    try {
      const now = find(this.path);
      if (now !== undefined && now.ino === found.ino && now.text === found.text) unlinkSync(this.path);
    } finally {
      closeSync(fd);
      unlinkOptional(mutex);
    }
  }

  private held(): DataDirLock {
    const text = JSON.stringify(this.me) + '\n';
    let released = false;
    const timer = setInterval(() => {
      let now: Found | undefined;
      try {
        now = find(this.path);
      } catch {
        return; // unreadable for a moment: only a lock seen to be someone else's counts as lost
      }
      if (now === undefined) {
        // Removed by hand (or with the directory): take it again; if another agent was faster, the next beat sees its lock.
        try {
          this.create();
        } catch {
          // The directory is gone: nothing to protect until it comes back.
        }
        return;
      }
      if (now.text !== text) {
        clearInterval(timer);
        released = true;
        const by = now.owner ? ` by ${describe(now.owner)}` : '';
        this.options.onLost(`data directory ${this.dir}: the lock ${this.path} was taken over${by}; stopping without writing anything more`);
        return;
      }
      try {
        const t = new Date();
        utimesSync(this.path, t, t);
      } catch {
        // The next beat tries again; the lock is judged stale only after staleMs without one.
      }
    }, this.heartbeatMs);
    timer.unref();
    return {
      path: this.path,
      owner: this.me,
      release: () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        // Only our own lock: after a takeover the file is someone else's.
        try {
          if (find(this.path)?.text === text) unlinkSync(this.path);
        } catch {
          // Called from the process's exit handler: a data directory removed meanwhile is no error.
        }
      },
    };
  }
}

export function lockDataDir(dir: string, options: LockOptions): Promise<DataDirLock> {
  return new DataDirLocker(dir, options).acquire();
}
