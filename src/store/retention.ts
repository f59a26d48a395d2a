/**
 * Retention for the local store, by age and by size, in small steps: after each write transaction about
 * as many of the oldest rows as were just written (so a full store stays full, not over), and on a timer a
 * bounded pass that also gives free pages back to the file system and keeps planner statistics current.
 * A step is one short transaction, so ingestion never waits long.
 *
 * Age counts from when a record arrived in the store, not from its @timestamp (see arrivals.ts), so
 * imported history is kept for the whole period; over the size limit, what arrived first goes first.
 */
import { LATE_MICROS } from './arrivals.js';
import type { LocalStore } from './local-store.js';

export interface RetentionOptions {
  /** records that arrived more than this many days ago are deleted (default 7) */
  retentionDays: number;
  /** the store's pages are kept under this many bytes (default 2 GiB) */
  maxBytes: number;
  /**
   * milliseconds since the epoch (default Date.now): arrival times and the age cutoff. Tests inject one
   * to age a store by days; only with the writer on the calling thread (`worker: false`), as a function
   * cannot cross to a worker.
   */
  now?: () => number;
}

/** rows per delete transaction: a few milliseconds of work */
const STEP = 2000;
/** a timer pass stops after this long */
const PASS_MS = 50;

export class Retention {
  private lastCheckpoint = Date.now();
  /** statistics soon after start (a new store has none), then every 10 minutes */
  private nextAnalyze = Date.now() + 30_000;
  private lastPrune = Date.now();
  deletedByAge = 0;
  deletedBySize = 0;

  constructor(
    private readonly store: LocalStore,
    private readonly options: RetentionOptions,
  ) {}

  /** rows that arrived before this (µs) are expired */
  private cutoffMicros(): number {
    return ((this.options.now ?? Date.now)() - this.options.retentionDays * 86_400_000) * 1000;
  }

  /** Delete up to `budget` rows: expired ones first, then those that arrived first while over the size limit. */
  private step(budget: number): number {
    try {
      return this.deleteSome(budget);
    } catch (error) {
      // with the store's path and what to do (a full disk, a damaged file)
      throw this.store.wrap(error, 'retention failed');
    }
  }

  private deleteSome(budget: number): number {
    const arrivals = this.store.arrivals;
    let deleted = 0;
    const cutoff = this.cutoffMicros();
    arrivals.expire(cutoff);
    // Rows outside the late ranges arrived less than LATE_MICROS after their time: once their time is
    // that much older than the cutoff, they arrived before it.
    while (deleted < budget) {
      const want = Math.min(STEP, budget - deleted);
      const n = arrivals.deleteUnpinned(want, cutoff - LATE_MICROS);
      this.deletedByAge += n;
      deleted += n;
      if (n < want) break;
    }
    while (deleted < budget && this.store.sizeBytes() > this.options.maxBytes) {
      // Rows outside the late ranges that certainly arrived before the oldest range (their time is more
      // than LATE_MICROS before its arrival) go first, then that range's rows.
      const rangeArrived = arrivals.oldestArrival();
      const n = arrivals.deleteUnpinned(Math.min(STEP, budget - deleted), rangeArrived === undefined ? undefined : rangeArrived - LATE_MICROS);
      this.deletedBySize += n;
      deleted += n;
      if (n > 0) continue;
      if (rangeArrived === undefined) break;
      arrivals.releaseOldest();
    }
    return deleted;
  }

  afterCommit(inserted: number, onError: (message: string) => void): void {
    try {
      this.step(Math.max(STEP, inserted * 2));
    } catch (error) {
      onError((error as Error).message);
    }
  }

  /** A timer pass: retention for at most ~50 ms, then space reclaim and occasional maintenance. */
  pass(onError: (message: string) => void): void {
    const store = this.store;
    try {
      const deadline = Date.now() + PASS_MS;
      while (Date.now() < deadline && this.step(STEP) === STEP);
      const db = store.db;
      const free = db.pragma('freelist_count', { simple: true }) as number;
      const pages = db.pragma('page_count', { simple: true }) as number;
      // Free pages are reused by new rows; give them back only when there are many (traffic dropped,
      // or the limits were lowered), a bounded number per pass.
      if (free > 4096 && free > pages / 20) store.reclaim(2048);
      const now = Date.now();
      if (now - this.lastCheckpoint > 60_000) {
        this.lastCheckpoint = now;
        store.checkpoint();
      }
      if (now > this.nextAnalyze) {
        this.nextAnalyze = now + 600_000;
        store.analyze();
      }
      if (now - this.lastPrune > 600_000) {
        this.lastPrune = now;
        store.pruneSources(store.sourceIdsInUse());
      }
    } catch (error) {
      onError((error as Error).message);
    }
  }
}
