/**
 * Joins consecutive records of one stream into one (stack traces, glog continuation lines). The held
 * record is released when a line does not continue it, when it reaches its line or byte bound, or when no
 * line came for the flush timeout — so the last record of an idle container is never stuck. A bound never
 * drops a line: the record so far is released and the rest carries on as a new record, both flagged.
 */
import { RecordFlag, type LogRecord } from '../../event/record.js';
import { Verdict, type GroupState, type MultilineRule } from './rule.js';
import type { MultilineLimits } from './options.js';
import type { RestartPoints } from './restart.js';

/** Header-driven grouping (glog): the caller knows whether a line starts a record or continues one. */
const NO_RULE: MultilineRule = { starts: () => true, continues: () => Verdict.NEW };

/** Where a group counts its work (the file parser's counters). */
export interface GroupCounters {
  /** lines appended to the record of an earlier line */
  multilineJoined: number;
  /** records cut at the line / byte bound */
  multilineTruncated: number;
}

export class MultilineGroup implements GroupState {
  firstLine = '';
  lastLine = '';
  lines = 0;
  state = 0;
  private held: LogRecord | undefined = undefined;
  private heldBytes = 0;
  /** a MAYBE line, waiting for the next one to decide */
  private tentative: LogRecord | undefined = undefined;
  private tentativeBytes = 0;
  private lastInputMs = 0;
  /**
   * A line came since the last idle check. Lines are not timed one by one (a clock read per line cost
   * ~5% of the parse); the first idle check after them stands for their time. The tailer checks at the
   * end of the file, right after reading them, and counts from then anyway (`quietSinceMs`).
   */
  private touched = false;
  /** offset of the held record's last line */
  private lastOffset = -1;

  constructor(
    private readonly limits: MultilineLimits,
    private readonly counters: GroupCounters,
    private readonly rule: MultilineRule = NO_RULE,
    /** shared by the groups of one file: multi-line records handed out, for a safe checkpoint */
    private readonly restart?: RestartPoints,
  ) {}

  /** Offset of the held record's first line, or -1 (a tentative line always comes after it). */
  pendingOffset(): number {
    return this.held === undefined ? -1 : this.held.offset;
  }

  /**
   * A line the rule decides about. Returns the record this line releases first, if any (the caller hands
   * it out before the records appended to `out`): in the common case — the held line goes, this one is
   * held or goes too — no array is touched.
   */
  push(record: LogRecord, bytes: number, out: LogRecord[]): LogRecord | undefined {
    this.touched = true;
    const held = this.held;
    if (held === undefined) {
      if (this.rule.starts(record.message)) {
        this.hold(record, bytes, 0);
        return undefined;
      }
      return record;
    }
    const verdict = this.rule.continues(record.message, this);
    if (verdict !== Verdict.NEW || this.tentative !== undefined) {
      this.decide(record, bytes, verdict, out);
      return undefined;
    }
    // the held record goes (as release() does); this line may begin the next group (as begin() does)
    if (this.lines > 1) this.restart?.note(held.offset, this.lastOffset);
    if (this.rule.starts(record.message)) this.hold(record, bytes, 0);
    else {
      this.held = undefined;
      out.push(record);
    }
    return held;
  }

  /** {@link push} with every released record appended to `out`. */
  private pushAll(record: LogRecord, bytes: number, out: LogRecord[]): void {
    if (this.held === undefined) {
      this.begin(record, bytes, out);
      return;
    }
    this.decide(record, bytes, this.rule.continues(record.message, this), out);
  }

  /** What the rule's verdict on a line after the held record does. */
  private decide(record: LogRecord, bytes: number, verdict: Verdict, out: LogRecord[]): void {
    const tentative = this.tentative;
    if (verdict === Verdict.NEW) {
      this.tentative = undefined;
      this.release(out);
      if (tentative !== undefined) {
        // the undecided line did not lead anywhere: it is a line of its own, and may begin a group itself
        this.begin(tentative, this.tentativeBytes, out);
        if (this.held !== undefined) {
          this.pushAll(record, bytes, out);
          return;
        }
      }
      this.begin(record, bytes, out);
      return;
    }
    if (tentative !== undefined) {
      this.tentative = undefined;
      this.append(tentative, this.tentativeBytes, out);
    }
    if (verdict === Verdict.JOIN) this.append(record, bytes, out);
    else {
      this.tentative = record;
      this.tentativeBytes = bytes;
    }
  }

  /** A line that starts a record whatever follows (a glog header line). */
  pushStart(record: LogRecord, bytes: number, now: number, out: LogRecord[]): void {
    this.lastInputMs = now;
    this.release(out);
    this.hold(record, bytes, 0);
  }

  /** A line that continues the held record (a glog line without a header), or starts one if none is held. */
  pushContinuation(record: LogRecord, bytes: number, now: number, out: LogRecord[]): void {
    this.lastInputMs = now;
    if (this.held === undefined) this.hold(record, bytes, 0);
    else this.append(record, bytes, out);
  }

  /**
   * Release what was held longer than the flush timeout since its last line (and since `quietSinceMs`),
   * or what the rule says nothing can join.
   */
  flushIdle(now: number, out: LogRecord[], quietSinceMs = 0): void {
    if (this.touched) {
      this.touched = false;
      this.lastInputMs = now;
    }
    if (this.held === undefined) return;
    // a group no later line can join goes at once: the timeout is for traces, not for every last line
    if (now - Math.max(this.lastInputMs, quietSinceMs) >= this.limits.flushTimeoutMs || (this.tentative === undefined && this.rule.waits?.(this) === false))
      this.release(out);
  }

  flushAll(out: LogRecord[]): void {
    this.release(out);
  }

  private begin(record: LogRecord, bytes: number, out: LogRecord[]): void {
    if (this.rule.starts(record.message)) this.hold(record, bytes, 0);
    else out.push(record);
  }

  private hold(record: LogRecord, bytes: number, state: number): void {
    this.held = record;
    this.heldBytes = bytes;
    this.lines = 1;
    this.state = state;
    this.firstLine = record.message;
    this.lastLine = record.message;
    this.lastOffset = record.offset;
  }

  private append(record: LogRecord, bytes: number, out: LogRecord[]): void {
    const held = this.held!;
    if (this.lines >= this.limits.maxLines || this.heldBytes + 1 + bytes > this.limits.maxBytes) {
      // Bound reached: release what we have; the rest of the trace goes on as a new record with the same
      // rule state, so its following lines still join it.
      held.flags |= RecordFlag.MULTILINE_TRUNCATED;
      record.flags |= RecordFlag.MULTILINE_TRUNCATED;
      this.counters.multilineTruncated++;
      const { firstLine, state } = this;
      this.release(out);
      this.hold(record, bytes, state);
      this.firstLine = firstLine;
      return;
    }
    held.message += '\n' + record.message;
    held.flags |= record.flags;
    this.heldBytes += 1 + bytes;
    this.lines++;
    this.lastLine = record.message;
    this.lastOffset = record.offset;
    this.counters.multilineJoined++;
  }

  /** Held record, then the undecided line after it as a record of its own. */
  private release(out: LogRecord[]): void {
    if (this.held !== undefined) {
      if (this.lines > 1) this.restart?.note(this.held.offset, this.lastOffset);
      out.push(this.held);
      this.held = undefined;
    }
    if (this.tentative !== undefined) {
      out.push(this.tentative);
      this.tentative = undefined;
    }
  }
}
