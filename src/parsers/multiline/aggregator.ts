/**
 * Joins consecutive records of one stream into one (stack traces, glog continuation lines). A group is
 * released when a line starts a new record, when it hits its line or byte bound, or when no line came
 * for the flush timeout — so the last record of an idle container is never stuck.
 */
import { RecordFlag, type LogRecord } from '../../event/record.js';
import type { GroupState, MultilineRule } from './rules.js';

export interface AggregatorLimits {
  flushTimeoutMs: number;
  maxLines: number;
  maxBytes: number;
}

export class MultilineAggregator implements GroupState {
  private pending: LogRecord | undefined;
  private pendingSinceMs = 0;
  private bytes = 0;
  firstLine = '';
  lastLine = '';
  lines = 0;
  joined = 0;

  constructor(
    private readonly rule: MultilineRule,
    private readonly limits: AggregatorLimits,
  ) {}

  /** Offset of the held record, or -1. */
  pendingOffset(): number {
    return this.pending === undefined ? -1 : this.pending.offset;
  }

  push(record: LogRecord, now: number, out: LogRecord[]): void {
    const pending = this.pending;
    if (pending !== undefined && this.rule.continues(record.message, this)) {
      if (this.lines >= this.limits.maxLines || this.bytes + record.message.length > this.limits.maxBytes) {
        pending.flags |= RecordFlag.MULTILINE_TRUNCATED;
        this.release(out);
        this.hold(record, now);
        return;
      }
      pending.message += '\n' + record.message;
      pending.flags |= record.flags;
      this.bytes += record.message.length + 1;
      this.lines++;
      this.lastLine = record.message;
      this.pendingSinceMs = now;
      this.joined++;
      return;
    }
    if (pending !== undefined) this.release(out);
    this.hold(record, now);
  }

  /** Append a raw continuation line to the held record (glog lines without a header). */
  appendLine(text: string, flags: number, now: number, out: LogRecord[]): boolean {
    const pending = this.pending;
    if (pending === undefined) return false;
    if (this.lines >= this.limits.maxLines || this.bytes + text.length > this.limits.maxBytes) {
      pending.flags |= RecordFlag.MULTILINE_TRUNCATED;
      return true; // the bound is reached: the line is dropped from the group, which is flagged
    }
    pending.message += '\n' + text;
    pending.flags |= flags;
    this.bytes += text.length + 1;
    this.lines++;
    this.lastLine = text;
    this.pendingSinceMs = now;
    this.joined++;
    void out;
    return true;
  }

  private hold(record: LogRecord, now: number): void {
    this.pending = record;
    this.pendingSinceMs = now;
    this.bytes = record.message.length;
    this.lines = 1;
    this.firstLine = record.message;
    this.lastLine = record.message;
  }

  private release(out: LogRecord[]): void {
    if (this.pending !== undefined) out.push(this.pending);
    this.pending = undefined;
  }

  flushIdle(now: number, out: LogRecord[]): void {
    if (this.pending !== undefined && now - this.pendingSinceMs >= this.limits.flushTimeoutMs) this.release(out);
  }

  flushAll(out: LogRecord[]): void {
    this.release(out);
  }
}
