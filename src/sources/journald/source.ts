/**
 * journald: kubelet, containerd and docker log to systemd on most nodes today. Read with
 * `journalctl -o json --follow --after-cursor=…` (spawned); the journal cursor is the checkpoint and
 * moves only when every record before it was acknowledged. When the in-flight budget is spent, reading
 * stops — no more lines are parsed and nothing more is read from the pipe, so journalctl blocks on it and
 * the journal is the buffer. journalctl exiting (crash, OOM kill, journald restart) is not the end: it is
 * restarted with backoff after the last entry read, and its state is in stats() (metrics) and
 * readiness(). A missing journalctl is reported in one line and the rest of the agent carries on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { OrderedAcks } from '../../agent/acks.js';
import type { InflightBudget } from '../../agent/budget.js';
import type { CheckpointStore } from '../../checkpoint/store.js';
import { metadataFromIdentity } from '../../event/metadata.js';
import type { FileContext, LogRecord, Metadata } from '../../event/record.js';
// The Kubernetes watch's reconnect backoff: nothing in it is Kubernetes-specific, so it is reused, not copied.
import { Backoff, type BackoffOptions } from '../../core/backoff.js';
import type { ChunkSink } from '../file/tailed-file.js';
import { entryRecord, entryUnit, type JournalEntry } from './entry.js';
import { journaldMetrics } from './metrics.js';
import type { MetricFamily } from '../../core/metrics.js';

export interface JournaldOptions {
  nodeName: string;
  units: string[];
  journalctl: string;
  directory?: string;
  checkpoints: CheckpointStore;
  budget: InflightBudget;
  sink: ChunkSink;
  /** read what is there and stop (no --follow, no restarts: the next run resumes from the checkpoint) */
  oneshot?: boolean;
  onError?: (message: string, context: Record<string, unknown>) => void;
  /** delays between journalctl restarts; default 0.5 s doubling to 30 s */
  restartBackoff?: BackoffOptions;
  /** how long journalctl may be down (restarts included) before readiness() says not ready; default 5 s */
  downGraceMs?: number;
  /** a journalctl that ran this long (or printed an entry) has recovered: backoff, outage and logging
   * start over; default 1 s. Below downGraceMs, or a quiet journal would make a start look like an outage. */
  stableRunMs?: number;
}

/** What the metrics show (src/sources/journald/metrics.ts). */
export interface JournaldStats {
  /** journalctl is running and has been for a second or printed an entry (a crash loop is not up) */
  up: boolean;
  /** journalctl processes started after the first */
  restarts: number;
  /** journal entries read and handed to the pipeline */
  recordsRead: number;
  /** lines that were not journal JSON */
  errors: number;
}

const BATCH_RECORDS = 500;
const BATCH_WAIT_MS = 100;

const DEFAULT_BACKOFF: BackoffOptions = { minMs: 500, maxMs: 30_000 };
const DEFAULT_DOWN_GRACE_MS = 5_000;
const DEFAULT_STABLE_RUN_MS = 1_000;

/** How one journalctl process ended. */
interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** it could not be started at all (ENOENT: not installed) */
  error?: NodeJS.ErrnoException;
  stderr: string;
}

/** One line an operator can act on: what happened to which command, and what to do when it is up to them. */
function describeExit(exit: Exit, journalctl: string): string {
  const error = exit.error;
  if (error?.code === 'ENOENT')
    return `journalctl is not installed (${journalctl} not found): install systemd's journalctl in the image, or set inputs.journald.enabled: false`;
  if (error?.code === 'EACCES')
    return `cannot run ${journalctl} (permission denied): make it executable for the agent's user, or point inputs.journald.journalctl at one that is`;
  if (error) return `cannot start ${journalctl}: ${error.message}`;
  const stderr = exit.stderr.trim().split('\n')[0].slice(0, 200);
  const how = exit.signal ? `was killed by ${exit.signal}${exit.signal === 'SIGKILL' ? ' (out of memory?)' : ''}` : `exited with code ${exit.code}`;
  return `${journalctl} ${how}${stderr ? ` (${stderr})` : ''}`;
}

export class JournaldSource {
  readonly key: string;
  private child: ChildProcess | undefined;
  private command = '';
  private stopping = false;
  private signalStopped!: () => void;
  /** resolves on stop(): ends a restart delay or a wait for budget at once */
  private readonly stopped = new Promise<void>((resolve) => (this.signalStopped = resolve));
  private readonly acks = new OrderedAcks<string>((cursor, bytes) => this.committed(cursor, bytes));
  private readonly metaByUnit = new Map<string, Metadata>();
  private readonly file: FileContext;
  private readonly backoff: Backoff;
  private pending: LogRecord[] = [];
  private pendingBytes = 0;
  /** cursor of the newest entry handed to the pipeline: where a restarted journalctl resumes */
  private lastCursor = '';
  private flushTimer: NodeJS.Timeout | undefined;
  private up = false;
  /** since when journalctl has not been running stably (undefined while it is, and before run()) */
  private downSince: number | undefined;
  /** this journalctl ran stableRunMs / printed an entry: it worked, whatever happens next */
  private runStable = false;
  private runProgress = false;
  private stableTimer: NodeJS.Timeout | undefined;
  private lastFailure = '';
  /** failures already logged in this outage: one line per kind, not one per restart (metrics count those) */
  private lastLogged = '';
  private restarts = 0;
  records = 0;
  errors = 0;

  constructor(private readonly options: JournaldOptions) {
    this.key = `journald:${options.units.join(',')}`;
    const displayPath = options.directory ?? 'journald';
    this.file = { path: displayPath, pathJson: JSON.stringify(displayPath), idPrefix: 'j', meta: metadataFromIdentity({ nodeName: options.nodeName }) };
    this.backoff = new Backoff(options.restartBackoff ?? DEFAULT_BACKOFF);
  }

  private committed(cursor: string, bytes: number): void {
    this.options.budget.release(bytes);
    const checkpoints = this.options.checkpoints;
    if (checkpoints.get(this.key) === undefined) {
      checkpoints.set({ key: this.key, path: this.file.path, dev: 0, ino: 0, fingerprint: '', offset: 0, cursor, idPrefix: 'j', updatedAt: Date.now() });
    } else checkpoints.update(this.key, 0, cursor);
  }

  private metaFor(unit: string): Metadata {
    let meta = this.metaByUnit.get(unit);
    if (meta === undefined) {
      meta = metadataFromIdentity({ nodeName: this.options.nodeName, serviceName: unit.replace(/\.service$/, '') });
      this.metaByUnit.set(unit, meta);
    }
    return meta;
  }

  stats(): JournaldStats {
    return { up: this.up && this.downSince === undefined, restarts: this.restarts, recordsRead: this.records, errors: this.errors };
  }

  describeMetrics(): MetricFamily[] {
    return journaldMetrics(() => this.stats());
  }

  /**
   * For /readyz: not ready once journalctl has been down longer than the grace period. One quick restart
   * is not an outage; a journalctl that keeps failing (or is missing) is, and the reason says why.
   */
  readiness(): { ready: boolean; reason?: string } {
    if (this.downSince === undefined || this.stopping) return { ready: true };
    const downMs = Date.now() - this.downSince;
    if (downMs < (this.options.downGraceMs ?? DEFAULT_DOWN_GRACE_MS)) return { ready: true };
    const why = this.lastFailure || 'starting';
    return { ready: false, reason: `journald input: journalctl not running for ${(downMs / 1000).toFixed(1)} s, ${this.restarts} restarts: ${why}` };
  }

  /** Runs until stop(), or in oneshot mode until journalctl has printed everything. */
  async run(): Promise<void> {
    this.downSince = Date.now();
    for (let attempt = 0; !this.stopping; attempt++) {
      if (attempt > 0) this.restarts++;
      const exit = await this.runJournalctl();
      if (this.stopping) return;
      if (this.runStable || this.runProgress) {
        // It worked before failing: a new failure, logged again, retried after the shortest delay.
        this.backoff.reset();
        this.lastLogged = '';
      }
      if (this.options.oneshot) {
        // Without --follow, code 0 is the end of the journal; anything else is said once, and the
        // next run resumes from the checkpoint (a oneshot run is not a service to keep alive).
        if (exit.error !== undefined || exit.code !== 0) this.report(exit, undefined);
        return;
      }
      // With --follow journalctl never ends on its own: every exit is a failure to recover from.
      const delayMs = this.backoff.next();
      this.report(exit, delayMs);
      await this.sleep(delayMs);
    }
  }

  private report(exit: Exit, delayMs: number | undefined): void {
    const what = describeExit(exit, this.options.journalctl);
    this.lastFailure = what;
    if (what === this.lastLogged) return;
    this.lastLogged = what;
    const seconds = delayMs === undefined ? '' : (delayMs / 1000).toFixed(1);
    const next =
      delayMs === undefined
        ? exit.error === undefined
          ? '; the next run resumes from the checkpoint'
          : ''
        : exit.error === undefined
          ? `; restarting it in ${seconds} s (backoff), after the last entry read`
          : `; retrying in ${seconds} s (backoff)`;
    const stderr = exit.stderr.trim().slice(0, 500) || undefined;
    this.options.onError?.(`journald input: ${what}${next}; the other inputs carry on`, {
      command: this.command,
      exitCode: exit.code,
      signal: exit.signal,
      stderr,
      restarts: this.restarts,
    });
  }

  private arguments(): string[] {
    // After the newest entry read, not the committed cursor: entries in between are already in the
    // pipeline and move the checkpoint when acknowledged, so nothing is read twice. (When the agent itself
    // restarts it resumes from the committed cursor; ids come from the cursor, so that replay is stored once.)
    const cursor = this.lastCursor || this.options.checkpoints.get(this.key)?.cursor;
    const args = ['-o', 'json', '--no-pager'];
    for (const unit of this.options.units) args.push('-u', unit);
    if (this.options.directory) args.push('--directory', this.options.directory);
    if (cursor) args.push(`--after-cursor=${cursor}`);
    else args.push('--lines=all');
    if (!this.options.oneshot) args.push('--follow');
    return args;
  }

  /** One journalctl process, from start until its output has been read to the end. */
  private async runJournalctl(): Promise<Exit> {
    const args = this.arguments();
    this.command = [this.options.journalctl, ...args].join(' ');
    this.runStable = false;
    this.runProgress = false;
    let child: ChildProcess;
    try {
      child = spawn(this.options.journalctl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      // Synchronous failures only (bad arguments); a missing binary comes as 'error' below.
      this.markDown();
      return { code: null, signal: null, error: error as NodeJS.ErrnoException, stderr: '' };
    }
    this.child = child;
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 2000) stderr += chunk;
    });
    child.once('spawn', () => {
      this.up = true;
      this.stableTimer = setTimeout(() => this.markStable(), this.options.stableRunMs ?? DEFAULT_STABLE_RUN_MS);
    });
    let startError: NodeJS.ErrnoException | undefined;
    // journalctl is down from its exit; the run ends at 'close', once its output is read, which takes
    // longer while the budget is spent.
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('error', (error: NodeJS.ErrnoException) => {
        if (child.pid !== undefined) return; // a failed kill: the process still runs, 'close' will come
        startError = error;
        this.markDown();
        resolve({ code: null, signal: null });
      });
      child.once('exit', () => this.markDown());
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    await Promise.all([this.consume(child.stdout!), closed]);
    this.child = undefined;
    this.flushBatch();
    return { ...(await closed), error: startError, stderr };
  }

  private markDown(): void {
    clearTimeout(this.stableTimer);
    this.up = false;
    this.downSince ??= Date.now();
  }

  /** journalctl has run for a while: the outage (for readiness) is over. */
  private markStable(): void {
    this.runStable = true;
    this.downSince = undefined;
  }

  /** The first entry of a run. Reading it is journalctl working even if it has exited since (its output
   * is read after its exit while the budget is spent): the outage, if any, counts from now. */
  private markProgress(): void {
    this.runProgress = true;
    this.downSince = this.up ? undefined : Date.now();
  }

  private sleep(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    return Promise.race([elapsed, this.stopped]).finally(() => clearTimeout(timer));
  }

  /**
   * Lines are taken from the pipe a chunk at a time and parsed one by one; when the budget is spent the
   * pending batch goes out and this waits — once, not once per line — before the next line. Meanwhile no
   * further chunk is read, so memory holds at most one chunk beyond the budget and journalctl blocks on
   * the full pipe. (Lines are bounded: without --all, journalctl prints fields over 4 KiB as null.)
   */
  private async consume(stdout: Readable): Promise<void> {
    let rest = '';
    try {
      for await (const chunk of stdout.setEncoding('utf8') as AsyncIterable<string>) {
        const text = rest + chunk;
        let start = 0;
        for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', start)) {
          this.onLine(text.slice(start, newline));
          start = newline + 1;
          if (!this.options.budget.available(1)) {
            this.flushBatch();
            await Promise.race([this.options.budget.waitForRoom(), this.stopped]);
            if (this.stopping) return; // leaving the loop destroys the stream, so 'close' still comes
          }
        }
        rest = text.slice(start);
      }
    } catch {
      // A broken pipe ends this run like an exit does; run() reports it and restarts.
    }
    // A last line without newline: journalctl died mid-entry. It does not parse (counted in errors) and
    // the restart, after the previous cursor, prints that entry again whole.
    this.onLine(rest);
  }

  private onLine(line: string): void {
    if (line.length === 0) return;
    let entry: JournalEntry;
    try {
      entry = JSON.parse(line) as JournalEntry;
    } catch {
      this.errors++;
      return;
    }
    const cursor = entry.__CURSOR;
    if (cursor === undefined) return;
    if (!this.runProgress) this.markProgress();
    const record = entryRecord(entry, cursor, this.options.nodeName, this.file, this.metaFor(entryUnit(entry)));
    this.pending.push(record);
    // Taken now, not when the batch goes out: records waiting for their batch are in memory too.
    this.options.budget.take(line.length);
    this.pendingBytes += line.length;
    this.lastCursor = cursor;
    this.records++;
    if (this.pending.length >= BATCH_RECORDS) this.flushBatch();
    else if (this.flushTimer === undefined) this.flushTimer = setTimeout(() => this.flushBatch(), BATCH_WAIT_MS);
  }

  private flushBatch(): void {
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (this.pending.length === 0) return;
    const records = this.pending;
    const batch = this.acks.newBatch(this.lastCursor, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    batch.pending = records.length;
    for (const record of records) record.batch = batch;
    this.options.sink.emit(records);
    batch.seal();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.signalStopped();
    clearTimeout(this.stableTimer);
    this.child?.kill('SIGTERM');
  }
}
