/**
 * The embedded local store: SQLite (better-sqlite3) under `<dataDir>/store/logs-<shard>.sqlite`, the default
 * output when no Elasticsearch is configured. This class is one shard (see shards.ts).
 *
 * Layout (see schema.ts): one `logs` row per record whose INTEGER PRIMARY KEY is time-ordered
 * (`microseconds << 11 | slot`), so "newest first" is a walk down the primary key, time ranges are rowid
 * ranges, and the full-text index (FTS5, keyed by the same rowid) yields its matches in time order too.
 * Per-file and per-pod facts (file path, pod uid, container id, labels, ...) are stored once in `sources`;
 * a row keeps the per-line part of the ECS document and the few short columns its indexes need.
 * Retention deletes rowid ranges too, counting from when rows arrived (see arrivals.ts).
 *
 * Durability: WAL with synchronous=FULL. The sink acknowledges records (and the agent then moves its
 * checkpoints) right after COMMIT returns, so a commit must be on disk by then: with NORMAL a power loss
 * could drop the last commits while the checkpoint file, which is fsynced, survives — records lost for good.
 * FULL costs one WAL fsync per transaction, and transactions hold thousands of records.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import type { MetadataFields } from '../event/record.js';
import { storeDir, storePath, unshardedStorePath } from './paths.js';
import { Arrivals, LATE_MICROS } from './arrivals.js';
import { createSchema, SLOT_BITS } from './schema.js';
import { slotRange, STORE_SHARDS } from './shards.js';
import { F_BODY_END, F_ID_END, F_LEVEL, F_MESSAGE_END, F_SOURCE, F_STREAM, F_TS, ROW_FIELDS, type FlatRows } from './row-buffer.js';

const SLOT_MASK = (1 << SLOT_BITS) - 1;

export { storePath } from './paths.js';
export { STORE_SHARDS } from './shards.js';
export { SLOT_BITS, STORE_SCHEMA_VERSION } from './schema.js';

export { ROW_FIELDS, RowBuffer, type FlatRows } from './row-buffer.js';

const decoder = new TextDecoder();

/**
 * Rows per multi-row INSERT on the fast path: one statement execution opens the table and its six
 * b-trees once for all of them instead of once per row (measured 14.3 → 11.5 µs per row at 32, with the
 * full-text rows inserted the same way; 8 rows gained only ~0.7 µs).
 */
const CHUNK = 32;

/** What a source key stands for in this writer: the sources row and the per-source columns of its rows. */
interface KnownSource {
  id: number;
  namespace: string | null;
  pod: string | null;
  container: string | null;
}

/** Row numbers in time order (stable: equal times keep their arrival order). */
function timeOrder(nums: Float64Array, count: number): number[] {
  const order = new Array<number>(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return order.sort((a, b) => nums[a * ROW_FIELDS + F_TS] - nums[b * ROW_FIELDS + F_TS] || a - b);
}

function idOf(rows: FlatRows, i: number): Uint8Array {
  return rows.text.subarray(i === 0 ? 0 : rows.numbers[i * ROW_FIELDS - ROW_FIELDS + F_BODY_END], rows.numbers[i * ROW_FIELDS + F_ID_END]);
}

function messageOf(rows: FlatRows, i: number): Uint8Array {
  return rows.text.subarray(rows.numbers[i * ROW_FIELDS + F_ID_END], rows.numbers[i * ROW_FIELDS + F_MESSAGE_END]);
}

function bodyOf(rows: FlatRows, i: number): Uint8Array {
  return rows.text.subarray(rows.numbers[i * ROW_FIELDS + F_MESSAGE_END], rows.numbers[i * ROW_FIELDS + F_BODY_END]);
}

function wordOf(rows: FlatRows, at: number): string | null {
  const index = rows.numbers[at];
  return index < 0 ? null : rows.words[index];
}

/** A file + metadata combination, sent once before the first row that uses its key. */
export interface SourceDescriptor {
  key: number;
  path: string;
  /** Metadata.json: the per-source document fragment */
  metaJson: string;
  fields: Omit<MetadataFields, 'document'>;
}

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly path: string,
  ) {
    super(message);
  }
}

/** `2026-11-24T16:00:00.123456789Z` → microseconds since the epoch (nanoseconds do not fit a double). */
export function timestampMicros(timestamp: string): number {
  const seconds = timestamp.length >= 20 && timestamp.charCodeAt(19) !== 43 && timestamp.charCodeAt(19) !== 45 ? Date.parse(timestamp.slice(0, 19) + 'Z') : NaN;
  if (Number.isNaN(seconds) || !timestamp.endsWith('Z')) {
    const fallback = Date.parse(timestamp);
    return Number.isNaN(fallback) ? 0 : fallback * 1000;
  }
  let micros = 0;
  if (timestamp.charCodeAt(19) === 46) {
    let digits = 0;
    for (let i = 20; i < timestamp.length && digits < 6; i++, digits++) {
      const c = timestamp.charCodeAt(i);
      if (c < 48 || c > 57) break;
      micros = micros * 10 + (c - 48);
    }
    for (; digits < 6; digits++) micros *= 10;
  }
  return seconds * 1000 + micros;
}

function hintFor(code: string | undefined): string {
  if (code === 'SQLITE_FULL')
    return 'the disk is full: free space, or lower output.local.maxBytes / retentionDays; nothing is lost, the agent re-reads unacknowledged lines';
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB')
    return 'the database file is damaged: stop the agent and move the store directory away to start a new store (unacknowledged lines are re-read)';
  if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM' || code === 'SQLITE_READONLY_DBMOVED')
    return 'the file or its directory is not writable by this user (or was removed)';
  if (code === 'SQLITE_BUSY') return 'another process holds the store: only one agent may write a data dir';
  if (code?.startsWith('SQLITE_IOERR')) return 'an I/O error: check the disk';
  return 'see the message';
}

/** Throws when `dataDir` holds a store from before sharding (one logs.sqlite), which this version cannot read. */
export function refuseUnshardedStore(dataDir: string): void {
  const unsharded = unshardedStorePath(dataDir);
  if (existsSync(unsharded)) {
    throw new StoreError(
      `the local store ${unsharded} was written by an older logferry (one file, schema version 3 or older); this logferry keeps the store in shards (logs-0.sqlite, ...): move the store directory away to start a new one`,
      'SCHEMA',
      unsharded,
    );
  }
}

export class LocalStore {
  readonly db: Database.Database;
  readonly path: string;
  private readonly statements: ReturnType<LocalStore['prepareWriter']> | undefined;
  /** sink-side source key → its sources row and per-source columns */
  private readonly sourceIds = new Map<number, KnownSource>();
  /**
   * Bind values of one multi-row INSERT into logs / logs_fts, reused for every chunk: allocated once
   * instead of per statement.
   */
  private readonly chunkLogs: Array<Uint8Array | string | number | null> = new Array(CHUNK * 10);
  private readonly chunkFts: Array<Uint8Array | number> = new Array(CHUNK * 3);
  private readonly chunkKeys: number[] = new Array(CHUNK * 2);
  /** row numbers (into the batch) and slots of the chunk being assembled */
  private readonly chunkRows = new Int32Array(CHUNK);
  private readonly chunkSlots = new Int32Array(CHUNK);
  /**
   * Next free slot per recently used microsecond, so records with equal timestamps keep their arrival
   * order and rarely collide (pods logging in the same microsecond land in different transactions).
   * Bounded: forgotten entries only cost a probe.
   */
  private readonly nextSlot = new Map<number, number>();
  /** this shard's slots: rowids of its rows have their low bits in [firstSlot, lastSlot] */
  private readonly firstSlot: number;
  private readonly lastSlot: number;
  /** when rows arrived, for retention (see arrivals.ts); undefined when read-only */
  private readonly arrivalBook: Arrivals | undefined;
  /** milliseconds since the epoch: arrival times (tests inject a clock) */
  private readonly now: () => number;

  constructor(dataDir: string, options: { readonly?: boolean; shard?: number; now?: () => number } = {}) {
    const shard = options.shard ?? 0;
    this.path = storePath(dataDir, shard);
    ({ first: this.firstSlot, last: this.lastSlot } = slotRange(shard, STORE_SHARDS));
    const readonly = options.readonly ?? false;
    refuseUnshardedStore(dataDir);
    try {
      if (!readonly) mkdirSync(storeDir(dataDir), { recursive: true });
      this.db = new Database(this.path, { readonly, fileMustExist: readonly });
      if (readonly) {
        this.db.pragma('query_only = ON');
        this.db.pragma('busy_timeout = 5000');
        createSchema(this.db, this.path, false);
      } else {
        createSchema(this.db, this.path, true);
      }
    } catch (error) {
      throw this.wrap(error, 'cannot open the local store');
    }
    this.statements = readonly ? undefined : this.prepareWriter();
    this.arrivalBook = readonly ? undefined : new Arrivals(this.db);
    this.now = options.now ?? Date.now;
  }

  /** The writer's record of when rows arrived, and retention's deletes (see arrivals.ts). */
  get arrivals(): Arrivals {
    if (this.arrivalBook === undefined) throw new StoreError(`the local store ${this.path} was opened read-only`, 'SQLITE_READONLY', this.path);
    return this.arrivalBook;
  }

  private prepareWriter() {
    const db = this.db;
    const rowid = `((? << ${SLOT_BITS}) | ?)`;
    // id, message and body are bound as UTF-8 bytes (see FlatRows) and stored as TEXT
    const text = 'CAST(? AS TEXT)';
    const values = `${text}, ?, ?, ?, ?, ?, ?, ${text}`;
    const columns = `INSERT OR IGNORE INTO logs (rowid, id, source, namespace, pod, container, level, stream, body) VALUES`;
    return {
      insert: db.prepare(`${columns} (${rowid}, ${values})`),
      insertFts: db.prepare(`INSERT INTO logs_fts (rowid, message) VALUES (${rowid}, ${text})`),
      insertChunk: db.prepare(`${columns} ${Array.from({ length: CHUNK }, () => `(${rowid}, ${values})`).join(', ')}`),
      insertFtsChunk: db.prepare(`INSERT INTO logs_fts (rowid, message) VALUES ${Array.from({ length: CHUNK }, () => `(${rowid}, ${text})`).join(', ')}`),
      /** 1 when the row at the rowid has the id, 0 when another, undefined when none */
      idAt: db.prepare(`SELECT id = ${text} FROM logs WHERE rowid = ${rowid}`).pluck(),
      anyTaken: db.prepare(`SELECT count(*) FROM logs WHERE rowid IN (${Array.from({ length: CHUNK }, () => rowid).join(', ')})`).pluck(),
      newest: db.prepare(`SELECT rowid >> ${SLOT_BITS}, rowid & ${SLOT_MASK} FROM logs ORDER BY rowid DESC LIMIT 1`).raw(),
      insertAt: db.prepare(`${columns} (?, ${values})`),
      insertFtsAt: db.prepare(`INSERT INTO logs_fts (rowid, message) VALUES (?, ${text})`),
      exists: db.prepare(`SELECT 1 FROM logs WHERE id = ${text}`).pluck(),
      taken: db.prepare(`SELECT rowid FROM logs WHERE rowid >= ? ORDER BY rowid`).pluck().safeIntegers(true),
      findSource: db.prepare(`SELECT id FROM sources WHERE path = ? AND meta = ?`).pluck(),
      addSource: db.prepare(`INSERT INTO sources (path, meta, namespace, pod, container, node, service, labels) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      touchSource: db.prepare(`UPDATE sources SET last_ts = max(last_ts, ?) WHERE id = ?`),
      oldest: db.prepare(`SELECT rowid >> ${SLOT_BITS} FROM logs ORDER BY rowid LIMIT 1`).pluck(),
    };
  }

  private writer() {
    if (this.statements === undefined) throw new StoreError(`the local store ${this.path} was opened read-only`, 'SQLITE_READONLY', this.path);
    return this.statements;
  }

  wrap(error: unknown, what: string): StoreError {
    if (error instanceof StoreError) return error;
    const code = (error as { code?: string }).code;
    return new StoreError(`${what}: ${this.path}: ${(error as Error).message} (${code ?? 'error'}; ${hintFor(code)})`, code, this.path);
  }

  private resolveSource(descriptor: SourceDescriptor): KnownSource {
    const s = this.writer();
    const f = descriptor.fields;
    const known: KnownSource = { id: 0, namespace: f.namespace ?? null, pod: f.podName ?? null, container: f.containerName ?? null };
    const found = s.findSource.get(descriptor.path, descriptor.metaJson) as number | undefined;
    if (found !== undefined) {
      known.id = found;
      return known;
    }
    const labels = f.labels && Object.keys(f.labels).length > 0 ? JSON.stringify(f.labels) : null;
    known.id = Number(
      s.addSource.run(descriptor.path, descriptor.metaJson, known.namespace, known.pod, known.container, f.nodeName ?? null, f.serviceName ?? null, labels)
        .lastInsertRowid,
    );
    return known;
  }

  /**
   * Insert rows in one transaction; returns how many were new (the rest were already stored: a replay).
   * Throws a {@link StoreError}; then nothing of the batch is stored.
   *
   * Rows go in time order, {@link CHUNK} at a time into a multi-row INSERT OR IGNORE; if all of them were
   * new (the usual case), their full-text rows follow in one statement too. Otherwise each row of the
   * chunk is checked: the row at its rowid carries its id only if this statement put it there, provided
   * none of the chunk's rowids was taken before it ran. That holds for a chunk newer than every row stored
   * before the transaction, and is checked with one lookup of the chunk's rowids otherwise (files read at
   * different speeds put older rows in most batches: measured 2/3 of them). This tells an ignored row
   * apart without RETURNING, which cost ~1.5 µs per row. A chunk with a taken rowid (a replay, a busy
   * microsecond) goes row by row, as does the last partial chunk.
   */
  insert(rows: FlatRows, sources: readonly SourceDescriptor[] = []): number {
    const s = this.writer();
    const arrivals = this.arrivals;
    const count = rows.count;
    // One arrival time for the transaction (µs): its rows become visible together at COMMIT.
    const arrival = this.now() * 1000;
    const lateBefore = arrival - LATE_MICROS;
    try {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        for (const descriptor of sources) this.sourceIds.set(descriptor.key, this.resolveSource(descriptor));
        let inserted = 0;
        /** newest time per source in this batch */
        const newest = new Map<number, number>();
        const nextSlot = this.nextSlot;
        if (nextSlot.size > 65_536) nextSlot.clear();
        // The newest row stored before this transaction, as (µs, slot): rowids do not fit a double.
        const top = s.newest.get() as [number, number] | undefined;
        const topTs = top === undefined ? -1 : top[0];
        const topSlot = top === undefined ? 0 : top[1];
        const nums = rows.numbers;
        const text = rows.text;
        const words = rows.words;
        const chunkRows = this.chunkRows;
        const chunkSlots = this.chunkSlots;
        const args = this.chunkLogs;
        const fts = this.chunkFts;
        const keys = this.chunkKeys;
        let n = 0;
        /** the chunk has a row no newer than the newest stored before this transaction */
        let old = false;
        // In time order, the table and its indexes grow at their ends instead of at one point per file
        // being read (measured ~21 → ~18 µs per row with 50 files).
        for (const i of timeOrder(nums, count)) {
          const at = i * ROW_FIELDS;
          const ts = nums[at + F_TS];
          if (ts < lateBefore) arrivals.noteLate(ts);
          const source = this.sourceIds.get(nums[at + F_SOURCE]);
          if (source === undefined)
            throw new StoreError(`internal: row ${decoder.decode(idOf(rows, i))} names unknown source ${nums[at + F_SOURCE]}`, 'INTERNAL', this.path);
          newest.set(source.id, ts); // rows come in time order: the last one is the newest
          // The first slot unless the microsecond was used recently; a slot taken by a forgotten one costs a probe.
          const slot = nextSlot.get(ts) ?? this.firstSlot;
          if (slot <= this.lastSlot) {
            nextSlot.set(ts, slot + 1);
            const start = i === 0 ? 0 : nums[at - ROW_FIELDS + F_BODY_END];
            const a = n * 10;
            args[a] = ts;
            args[a + 1] = slot;
            args[a + 2] = text.subarray(start, nums[at + F_ID_END]);
            args[a + 3] = source.id;
            args[a + 4] = source.namespace;
            args[a + 5] = source.pod;
            args[a + 6] = source.container;
            args[a + 7] = nums[at + F_LEVEL] < 0 ? null : words[nums[at + F_LEVEL]];
            args[a + 8] = nums[at + F_STREAM] < 0 ? null : words[nums[at + F_STREAM]];
            args[a + 9] = text.subarray(nums[at + F_MESSAGE_END], nums[at + F_BODY_END]);
            const f = n * 3;
            fts[f] = ts;
            fts[f + 1] = slot;
            fts[f + 2] = text.subarray(nums[at + F_ID_END], nums[at + F_MESSAGE_END]);
            chunkRows[n] = i;
            chunkSlots[n] = slot;
            keys[n * 2] = ts;
            keys[n * 2 + 1] = slot;
            if (ts < topTs || (ts === topTs && slot <= topSlot)) old = true;
            if (++n === CHUNK) {
              inserted += this.insertChunk(rows, old);
              n = 0;
              old = false;
            }
          } else {
            inserted += this.insertRow(rows, i, source, slot);
          }
        }
        // The last, partial chunk row by row (its slots are reserved already).
        for (let k = 0; k < n; k++) inserted += this.insertRow(rows, chunkRows[k], this.sourceOf(rows, chunkRows[k]), chunkSlots[k]);
        for (const [source, ts] of newest) s.touchSource.run(ts, source);
        arrivals.record(arrival);
        this.db.exec('COMMIT');
        return inserted;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        this.nextSlot.clear();
        arrivals.rolledBack();
        // The ids of sources inserted in the rolled-back transaction are gone too.
        for (const descriptor of sources) this.sourceIds.delete(descriptor.key);
        throw error;
      }
    } catch (error) {
      throw this.wrap(error, 'cannot write to the local store');
    }
  }

  private sourceOf(rows: FlatRows, i: number): KnownSource {
    return this.sourceIds.get(rows.numbers[i * ROW_FIELDS + F_SOURCE])!;
  }

  /** The assembled chunk; returns the rows stored. */
  private insertChunk(rows: FlatRows, old: boolean): number {
    const s = this.writer();
    if (old && (s.anyTaken.get(this.chunkKeys) as number) > 0) {
      // A replay or a busy microsecond: row by row (slots are reserved already).
      let inserted = 0;
      for (let k = 0; k < CHUNK; k++) inserted += this.insertRow(rows, this.chunkRows[k], this.sourceOf(rows, this.chunkRows[k]), this.chunkSlots[k]);
      return inserted;
    }
    if (s.insertChunk.run(this.chunkLogs).changes === CHUNK) {
      s.insertFtsChunk.run(this.chunkFts);
      return CHUNK;
    }
    // Some were ignored (an id stored already, or a rowid taken by a row that needed a free slot).
    let inserted = 0;
    for (let k = 0; k < CHUNK; k++) {
      const i = this.chunkRows[k];
      const ts = rows.numbers[i * ROW_FIELDS + F_TS];
      const slot = this.chunkSlots[k];
      const id = idOf(rows, i);
      if (s.idAt.get(id, ts, slot) === 1) {
        s.insertFts.run(ts, slot, messageOf(rows, i));
        inserted++;
      } else if (s.exists.get(id) === undefined) {
        this.useSlot(ts, this.insertAtFreeRowid(rows, i, this.sourceOf(rows, i), slot));
        inserted++;
      }
    }
    return inserted;
  }

  /** Row `i` at `slot` (or the next free one); returns 1 when stored, 0 when its id was stored already. */
  private insertRow(rows: FlatRows, i: number, source: KnownSource, slot: number): number {
    const s = this.writer();
    const nums = rows.numbers;
    const at = i * ROW_FIELDS;
    const ts = nums[at + F_TS];
    const id = idOf(rows, i);
    if (
      slot <= this.lastSlot &&
      s.insert.run(
        ts,
        slot,
        id,
        source.id,
        source.namespace,
        source.pod,
        source.container,
        wordOf(rows, at + F_LEVEL),
        wordOf(rows, at + F_STREAM),
        bodyOf(rows, i),
      ).changes === 1
    ) {
      s.insertFts.run(ts, slot, messageOf(rows, i));
      this.useSlot(ts, slot);
      return 1;
    }
    if (s.exists.get(id) !== undefined) return 0;
    this.useSlot(ts, this.insertAtFreeRowid(rows, i, source, slot));
    return 1;
  }

  private useSlot(ts: number, slot: number): void {
    if ((this.nextSlot.get(ts) ?? this.firstSlot) <= slot) this.nextSlot.set(ts, slot + 1);
  }

  /** `candidate`, or the next rowid in this shard's slots after it. */
  private ownRowid(candidate: bigint): bigint {
    const slot = Number(candidate & BigInt(SLOT_MASK));
    if (slot < this.firstSlot) return candidate - BigInt(slot) + BigInt(this.firstSlot);
    if (slot > this.lastSlot) return (((candidate >> BigInt(SLOT_BITS)) + 1n) << BigInt(SLOT_BITS)) | BigInt(this.firstSlot);
    return candidate;
  }

  /**
   * Another record took this microsecond's slot: the next free rowid from `fromSlot` on (past the shard's
   * last slot of a full microsecond, the record sorts as if a microsecond later). Returns the slot offset
   * used (from the microsecond's first rowid).
   */
  private insertAtFreeRowid(rows: FlatRows, i: number, source: KnownSource, fromSlot: number): number {
    const s = this.writer();
    const at = i * ROW_FIELDS;
    const base = BigInt(rows.numbers[at + F_TS]) << BigInt(SLOT_BITS);
    let candidate = this.ownRowid(base + BigInt(fromSlot));
    // Rows at or after the candidate, ascending: this shard has no rows in other shards' slots.
    for (const taken of s.taken.iterate(candidate) as IterableIterator<bigint>) {
      if (taken !== candidate) break;
      candidate = this.ownRowid(candidate + 1n);
    }
    s.insertAt.run(
      candidate,
      idOf(rows, i),
      source.id,
      source.namespace,
      source.pod,
      source.container,
      wordOf(rows, at + F_LEVEL),
      wordOf(rows, at + F_STREAM),
      bodyOf(rows, i),
    );
    s.insertFtsAt.run(candidate, messageOf(rows, i));
    return Number(candidate - base);
  }

  /** Forget source keys (the sink restarted its numbering, e.g. after reopening). */
  resetSources(): void {
    this.sourceIds.clear();
  }

  count(): number {
    return this.db.prepare('SELECT count(*) FROM logs').pluck().get() as number;
  }

  /** Bytes in use: pages minus free pages. The WAL is transient (checkpointed, capped) and not counted. */
  sizeBytes(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  /** The oldest record's time (microseconds), or undefined when empty. */
  oldestMicros(): number | undefined {
    return this.writer().oldest.get() as number | undefined;
  }

  /** Give freed pages back to the file system and fold full-text tombstones, a bounded amount at a time. */
  reclaim(pages = 2000): void {
    try {
      this.db.prepare(`INSERT INTO logs_fts (logs_fts, rank) VALUES ('merge', 64)`).run();
      this.db.pragma(`incremental_vacuum(${pages})`);
    } catch (error) {
      throw this.wrap(error, 'reclaiming space failed');
    }
  }

  /** Remove sources no row refers to any more (newest use before the oldest row), except those in use. */
  pruneSources(inUse: ReadonlySet<number>): number {
    const oldest = this.oldestMicros();
    if (oldest === undefined) return 0;
    // A second of margin: a record past its microsecond's last slot is stored a little later than its time.
    const unused = this.db
      .prepare('SELECT id FROM sources WHERE last_ts < ?')
      .pluck()
      .all(oldest - 1_000_000) as number[];
    const remove = this.db.prepare('DELETE FROM sources WHERE id = ?');
    let removed = 0;
    this.db.transaction(() => {
      for (const id of unused) if (!inUse.has(id)) removed += remove.run(id).changes;
    })();
    return removed;
  }

  /** sources.id values this writer handed out (they must survive pruning). */
  sourceIdsInUse(): Set<number> {
    const ids = new Set<number>();
    for (const known of this.sourceIds.values()) ids.add(known.id);
    return ids;
  }

  /** Keep the WAL short (readers then scan less of it). */
  checkpoint(): void {
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  /**
   * Planner statistics (sqlite_stat1), sampled (analysis_limit) so it takes milliseconds: without them
   * SQLite cannot tell that `pod = ?` narrows far more than `level = ?`.
   */
  analyze(): void {
    this.db.exec('ANALYZE');
  }

  close(): void {
    try {
      if (this.db.open && !this.db.readonly) this.analyze();
    } catch {
      // a failing store is closed anyway
    }
    try {
      this.db.close();
    } catch {
      // closing twice or after a fatal error: nothing left to release
    }
  }
}
