/**
 * Retention for the local store, by age and by size, in small steps: after each write transaction about
 * as many of the oldest rows as were just written (so a full store stays full, not over), and on a timer a
 * bounded pass that also gives free pages back to the file system and keeps planner statistics current.
 * A step is one short transaction, so ingestion never waits long.
 */
import type { LocalStore } from './local-store.js';

export interface RetentionOptions {
  /** records older than this many days are deleted (default 7) */
  retentionDays: number;
  /** the store's pages are kept under this many bytes (default 2 GiB) */
  maxBytes: number;
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

  private cutoffMicros(): number {
    return (Date.now() - this.options.retentionDays * 86_400_000) * 1000;
  }

  /** Delete up to `budget` rows: expired ones first, then the oldest while over the size limit. */
  private step(budget: number): number {
    const store = this.store;
    let deleted = 0;
    const cutoff = this.cutoffMicros();
    while (deleted < budget) {
      const oldest = store.oldestMicros();
      if (oldest === undefined || oldest >= cutoff) break;
      const n = store.deleteOldest(Math.min(STEP, budget - deleted), cutoff);
      this.deletedByAge += n;
      deleted += n;
      if (n === 0) break;
    }
    while (deleted < budget && store.sizeBytes() > this.options.maxBytes) {
      const n = store.deleteOldest(Math.min(STEP, budget - deleted));
      this.deletedBySize += n;
      deleted += n;
      if (n === 0) break;
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
