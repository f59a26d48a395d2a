/**
 * Retention counts from when a record arrived in the store, not from its own @timestamp: history imported
 * today (container logs from nine days ago, a backlog read late) stays searchable for the whole
 * retention period, as an Elasticsearch lifecycle policy ages an index from its rollover.
 *
 * Rows stay keyed by their own time (rowid = µs << SLOT_BITS | slot, see schema.ts), which every query
 * walks; a per-row arrival column would need its own index (~2 µs per inserted row). Instead:
 * - A record that arrives within LATE_MICROS of its time ("timely", nearly all of them when tailing) is
 *   deleted once its time is older than the retention plus LATE_MICROS: it arrived before that, so it is
 *   never deleted early, and (outside late ranges, below) at most LATE_MICROS late.
 * - A record older than that on arrival is "late": each transaction writes the time ranges of its late
 *   rows, with the arrival time, to `late_arrivals` (in the same transaction). No row inside a range is
 *   deleted until the range expires (it arrived more than the retention ago) or is released for space.
 *   Ranges written in the same hour that touch are merged, so an import of any size or a source with a
 *   skewed clock adds a few ranges per hour, not one per transaction; a merged range takes the later
 *   arrival (kept at most an hour longer). Timely rows that fall inside a late range wait with it.
 * Deleting is still by rowid range (the gaps between late ranges), as before.
 */
import type Database from 'better-sqlite3';
import { SLOT_BITS } from './schema.js';

const HOUR_MICROS = 3_600_000_000;
/** a record whose time is more than this before its arrival is late */
export const LATE_MICROS = HOUR_MICROS;
/** late records this close in time share a range (the timely rows between them wait with them) */
const RUN_GAP_MICROS = HOUR_MICROS;
/** ranges written in one hour, at most: past that, a new one widens the nearest */
const MAX_RANGES_PER_HOUR = 16;
/**
 * A range reaches a second past its last record's time: a record whose microsecond's slots are full is
 * stored at a later rowid (LocalStore.insertAtFreeRowid), by far less than that.
 */
const SPILL_MICROS = 1_000_000;
const MIN_ROWID = -(1n << 63n);
const MAX_ROWID = (1n << 63n) - 1n;
const SHIFT = BigInt(SLOT_BITS);

interface LateRange {
  id: number;
  first: number;
  last: number;
  arrived: number;
}

/** Rowids [lo, hi] that no retention by age removes yet. */
interface Pinned {
  lo: bigint;
  hi: bigint;
}

export class Arrivals {
  private readonly s;
  /** the table by id (it is small, and this writer is its only one); undefined until read, or after a rollback */
  private table: Map<number, LateRange> | undefined;
  /** the table by time, and its rowid intervals: undefined after a change */
  private sorted: LateRange[] | undefined;
  private pinned: Pinned[] | undefined;
  /** late time runs of the transaction being written: first, last, first, last, ... */
  private readonly runs: number[] = [];
  /** ids of the ranges this writer wrote in the current hour (what a new run merges with), and that hour */
  private hourIds: number[] = [];
  private hour = -1;

  constructor(private readonly db: Database.Database) {
    this.s = {
      all: db.prepare('SELECT id, first, last, arrived FROM late_arrivals'),
      add: db.prepare('INSERT INTO late_arrivals (first, last, arrived) VALUES (?, ?, ?)'),
      widen: db.prepare('UPDATE late_arrivals SET first = ?, last = ?, arrived = ? WHERE id = ?'),
      expire: db.prepare('DELETE FROM late_arrivals WHERE arrived < ?'),
      remove: db.prepare('DELETE FROM late_arrivals WHERE id = ?'),
      firstFrom: db.prepare('SELECT rowid FROM logs WHERE rowid >= ? ORDER BY rowid LIMIT 1').pluck().safeIntegers(true),
      nthFrom: db.prepare('SELECT rowid FROM logs WHERE rowid >= ? ORDER BY rowid LIMIT 1 OFFSET ?').pluck().safeIntegers(true),
      deleteRange: db.prepare('DELETE FROM logs WHERE rowid BETWEEN ? AND ?'),
      deleteFtsRange: db.prepare('DELETE FROM logs_fts WHERE rowid BETWEEN ? AND ?'),
    };
  }

  /**
   * A late row of the transaction being written (µs). Rows come in time order (LocalStore.insert), so a
   * run grows at its end or a new one starts.
   */
  noteLate(ts: number): void {
    const runs = this.runs;
    const n = runs.length;
    if (n > 0 && ts - runs[n - 1] <= RUN_GAP_MICROS) runs[n - 1] = ts;
    else runs.push(ts, ts);
  }

  /** Write the transaction's late runs, arrived at `arrival` (µs); inside the transaction. */
  record(arrival: number): void {
    const runs = this.runs;
    if (runs.length === 0) return;
    const hour = Math.floor(arrival / HOUR_MICROS);
    if (hour !== this.hour) {
      this.hour = hour;
      this.hourIds = [];
    }
    for (let i = 0; i < runs.length; i += 2) this.recordRun(runs[i], runs[i + 1], arrival);
    runs.length = 0;
    this.changed();
  }

  private recordRun(first: number, last: number, arrival: number): void {
    const table = this.ranges();
    // Ranges of this hour that retention released meanwhile (over the size limit) are gone.
    const candidates = this.hourIds.map((id) => table.get(id)).filter((r): r is LateRange => r !== undefined);
    let merge = candidates.find((r) => r.first - RUN_GAP_MICROS <= last && first <= r.last + RUN_GAP_MICROS);
    if (merge === undefined && candidates.length >= MAX_RANGES_PER_HOUR) {
      const distance = (r: LateRange) => Math.max(r.first - last, first - r.last);
      merge = candidates.reduce((a, b) => (distance(b) < distance(a) ? b : a));
    }
    if (merge !== undefined) {
      merge.first = Math.min(merge.first, first);
      merge.last = Math.max(merge.last, last);
      merge.arrived = arrival;
      this.s.widen.run(merge.first, merge.last, arrival, merge.id);
    } else {
      const id = Number(this.s.add.run(first, last, arrival).lastInsertRowid);
      table.set(id, { id, first, last, arrived: arrival });
      candidates.push(table.get(id)!);
    }
    this.hourIds = candidates.map((r) => r.id);
  }

  /** The transaction rolled back: its runs, and any range it wrote or widened, are gone. */
  rolledBack(): void {
    this.runs.length = 0;
    this.hourIds = [];
    this.table = undefined;
    this.changed();
  }

  private changed(): void {
    this.sorted = undefined;
    this.pinned = undefined;
  }

  private ranges(): Map<number, LateRange> {
    if (this.table === undefined) {
      this.table = new Map();
      for (const r of this.s.all.all() as LateRange[]) this.table.set(r.id, r);
    }
    return this.table;
  }

  /** When the oldest late range arrived (µs), or undefined when there is none. */
  oldestArrival(): number | undefined {
    let oldest: number | undefined;
    for (const r of this.ranges().values()) if (oldest === undefined || r.arrived < oldest) oldest = r.arrived;
    return oldest;
  }

  /** Forget the late ranges that arrived before `cutoff` (µs): their rows may go now. */
  expire(cutoff: number): void {
    const oldest = this.oldestArrival();
    if (oldest === undefined || oldest >= cutoff) return;
    this.s.expire.run(cutoff);
    const table = this.ranges();
    for (const [id, r] of table) if (r.arrived < cutoff) table.delete(id);
    this.changed();
  }

  /** Forget the late range that arrived first (the store is over its size limit). */
  releaseOldest(): void {
    const table = this.ranges();
    let oldest: LateRange | undefined;
    for (const r of table.values()) if (oldest === undefined || r.arrived < oldest.arrived) oldest = r;
    if (oldest === undefined) return;
    this.s.remove.run(oldest.id);
    table.delete(oldest.id);
    this.changed();
  }

  /** The late ranges as rowid intervals, sorted and merged. */
  private pinnedRowids(): Pinned[] {
    if (this.pinned !== undefined) return this.pinned;
    const pinned: Pinned[] = [];
    this.sorted ??= [...this.ranges().values()].sort((a, b) => a.first - b.first);
    for (const r of this.sorted) {
      const lo = BigInt(Math.floor(r.first)) << SHIFT;
      const hi = ((BigInt(Math.floor(r.last + SPILL_MICROS)) + 1n) << SHIFT) - 1n;
      const top = pinned.at(-1);
      if (top !== undefined && lo <= top.hi + 1n) {
        if (hi > top.hi) top.hi = hi;
      } else {
        pinned.push({ lo, hi });
      }
    }
    return (this.pinned = pinned);
  }

  /**
   * Delete up to `limit` of the oldest rows outside every late range, only those whose time is before
   * `beforeMicros` when given. One short transaction of rowid range deletes; returns the rows deleted.
   */
  deleteUnpinned(limit: number, beforeMicros?: number): number {
    const s = this.s;
    const pinned = this.pinnedRowids();
    const bound = beforeMicros === undefined ? MAX_ROWID : (BigInt(Math.floor(beforeMicros)) << SHIFT) - 1n;
    // The usual answer after a commit (nothing old enough), without a transaction.
    const oldest = s.firstFrom.get(MIN_ROWID) as bigint | undefined;
    if (oldest === undefined || oldest > bound) return 0;
    return this.db.transaction(() => {
      let deleted = 0;
      let from = MIN_ROWID;
      let p = 0;
      while (deleted < limit) {
        const row = s.firstFrom.get(from) as bigint | undefined;
        if (row === undefined || row > bound) break;
        while (p < pinned.length && pinned[p].hi < row) p++;
        if (p < pinned.length && pinned[p].lo <= row) {
          from = pinned[p].hi + 1n;
          continue;
        }
        let upTo = (s.nthFrom.get(row, limit - deleted - 1) as bigint | undefined) ?? MAX_ROWID;
        if (p < pinned.length && pinned[p].lo <= upTo) upTo = pinned[p].lo - 1n;
        if (bound < upTo) upTo = bound;
        const n = s.deleteRange.run(row, upTo).changes;
        if (n > 0) s.deleteFtsRange.run(row, upTo);
        deleted += n;
        if (upTo === MAX_ROWID) break;
        from = upTo + 1n;
      }
      return deleted;
    })();
  }
}
