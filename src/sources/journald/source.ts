/**
 * journald: kubelet, containerd and docker log to systemd on most nodes today. Read with
 * `journalctl -o json --follow --after-cursor=…` (spawned); the journal cursor is the checkpoint and
 * moves only when every record before it was acknowledged. When the in-flight budget is spent, reading
 * pauses and journalctl blocks on its pipe — the journal is the buffer. A missing journalctl is reported
 * once and the rest of the agent carries on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { OrderedAcks } from '../../agent/acks.js';
import type { InflightBudget } from '../../agent/budget.js';
import type { CheckpointStore } from '../../checkpoint/store.js';
import { metadataFromIdentity } from '../../event/metadata.js';
import type { FileContext, LogRecord, Metadata } from '../../event/record.js';
import { isGlogHeader, parseGlogLine } from '../../parsers/component.js';
import type { ChunkSink } from '../file/tailed-file.js';

export interface JournaldOptions {
  nodeName: string;
  units: string[];
  journalctl: string;
  directory?: string;
  checkpoints: CheckpointStore;
  budget: InflightBudget;
  sink: ChunkSink;
  /** read what is there and stop (no --follow) */
  oneshot?: boolean;
  onError?: (message: string, context: Record<string, unknown>) => void;
}

const PRIORITY_LEVELS = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'info', 'debug'];
const BATCH_RECORDS = 500;
const BATCH_WAIT_MS = 100;

interface JournalEntry {
  MESSAGE?: string | number[] | null;
  __CURSOR?: string;
  __REALTIME_TIMESTAMP?: string;
  PRIORITY?: string;
  _SYSTEMD_UNIT?: string;
  SYSLOG_IDENTIFIER?: string;
  _PID?: string;
}

function microsToTimestamp(micros: string | undefined): string {
  const value = Number(micros);
  if (!Number.isFinite(value) || value <= 0) return new Date().toISOString();
  const ms = Math.floor(value / 1000);
  return new Date(ms).toISOString().slice(0, 19) + '.' + String(value % 1_000_000).padStart(6, '0') + '000Z';
}

export class JournaldSource {
  readonly key: string;
  private child: ChildProcess | undefined;
  private stopping = false;
  private readonly acks = new OrderedAcks<string>((cursor, bytes) => this.committed(cursor, bytes));
  private readonly metaByUnit = new Map<string, Metadata>();
  private readonly file: FileContext;
  private pending: LogRecord[] = [];
  private pendingBytes = 0;
  private lastCursor = '';
  private flushTimer: NodeJS.Timeout | undefined;
  records = 0;
  errors = 0;

  constructor(private readonly options: JournaldOptions) {
    this.key = `journald:${options.units.join(',')}`;
    const displayPath = options.directory ?? 'journald';
    this.file = { path: displayPath, pathJson: JSON.stringify(displayPath), idPrefix: 'j', meta: metadataFromIdentity({ nodeName: options.nodeName }) };
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

  /** Runs until stop(), or in oneshot mode until journalctl has printed everything. */
  async run(): Promise<void> {
    const cursor = this.options.checkpoints.get(this.key)?.cursor;
    const args = ['-o', 'json', '--no-pager'];
    for (const unit of this.options.units) args.push('-u', unit);
    if (this.options.directory) args.push('--directory', this.options.directory);
    if (cursor) args.push(`--after-cursor=${cursor}`);
    else args.push('--lines=all');
    if (!this.options.oneshot) args.push('--follow');
    let child: ChildProcess;
    try {
      child = spawn(this.options.journalctl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      this.options.onError?.('journald input: cannot start journalctl; the other inputs carry on', { journalctl: this.options.journalctl, error: (error as Error).message });
      return;
    }
    this.child = child;
    const exited = new Promise<void>((resolve) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        const missing = error.code === 'ENOENT';
        this.options.onError?.(missing ? 'journald input: journalctl is not installed; the other inputs carry on' : 'journald input: journalctl failed', { journalctl: this.options.journalctl, error: error.message });
        resolve();
      });
      child.once('close', () => resolve());
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 2000) stderr += chunk;
    });
    const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
    lines.on('line', (line) => this.onLine(line, child));
    await exited;
    this.flushBatch();
    if (!this.stopping && !this.options.oneshot && stderr) {
      this.options.onError?.('journald input: journalctl stopped', { stderr: stderr.slice(0, 500) });
    }
  }

  private onLine(line: string, child: ChildProcess): void {
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
    let message = entry.MESSAGE;
    if (Array.isArray(message)) message = Buffer.from(message).toString('utf8'); // binary-safe form journald uses for non-UTF-8
    const unit = entry._SYSTEMD_UNIT ?? entry.SYSLOG_IDENTIFIER ?? 'journald';
    const record: LogRecord = {
      id: 'j' + createHash('sha1').update(`${this.options.nodeName}\0${cursor}`).digest('base64url').slice(0, 22),
      timestamp: microsToTimestamp(entry.__REALTIME_TIMESTAMP),
      message: typeof message === 'string' ? message : '',
      stream: undefined,
      level: PRIORITY_LEVELS[Number(entry.PRIORITY)] ?? undefined,
      offset: 0,
      flags: 0,
      file: this.file,
      meta: this.metaFor(unit),
      json: undefined,
      extra: entry._PID ? { process: { pid: Number(entry._PID) } } : undefined,
      batch: undefined as never,
    };
    // kubelet under systemd still writes glog lines: lift level, origin and thread from them.
    if (isGlogHeader(record.message)) {
      const glog = parseGlogLine(record.message, 'UTC', Date.now());
      if (glog !== undefined) {
        record.message = glog.message;
        record.level = glog.level;
        record.extra = { ...record.extra, log: { origin: { file: { name: glog.originFile, line: glog.originLine } } }, ...(glog.fields ? { klog: glog.fields } : {}) };
      }
    }
    this.pending.push(record);
    this.pendingBytes += line.length;
    this.lastCursor = cursor;
    this.records++;
    if (this.pending.length >= BATCH_RECORDS) this.flushBatch();
    else if (this.flushTimer === undefined) this.flushTimer = setTimeout(() => this.flushBatch(), BATCH_WAIT_MS);
    if (!this.options.budget.available(this.pendingBytes)) {
      child.stdout!.pause();
      void this.options.budget.waitForRoom().then(() => child.stdout!.resume());
    }
  }

  private flushBatch(): void {
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (this.pending.length === 0) return;
    const records = this.pending;
    const batch = this.acks.newBatch(this.lastCursor, this.pendingBytes);
    this.options.budget.take(this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    batch.pending = records.length;
    for (const record of records) record.batch = batch;
    this.options.sink.emit(records);
    batch.seal();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.child?.kill('SIGTERM');
  }
}
