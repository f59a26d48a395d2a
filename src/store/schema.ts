/** The local store's tables, indexes and settings. */
import type Database from 'better-sqlite3';

/** 4: the store is sharded (logs-<n>.sqlite), each shard with its own range of rowid slots */
export const STORE_SCHEMA_VERSION = 4;

/** rowid = microseconds since the epoch << SLOT_BITS | slot: 2048 rows per microsecond (shared by the shards), good until 2100+. */
export const SLOT_BITS = 11;

/** the partial indexes' conditions, shared with the query side (SQLite matches them textually) */
export const COMMON_LEVELS = ['info', 'debug', 'trace'];
export const NOTABLE_LEVEL = `level NOT IN (${COMMON_LEVELS.map((l) => `'${l}'`).join(', ')})`;
export const STDERR = `stream = 'stderr'`;

const TABLES = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  -- One row per (file, metadata) combination: what every record from that file shares. Ids are never
  -- reused (AUTOINCREMENT): a reader caches them. last_ts (µs) is the newest record that used the source;
  -- once older than the oldest record, nothing refers to it.
  CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL,
    meta TEXT NOT NULL,
    namespace TEXT, pod TEXT, container TEXT, node TEXT, service TEXT,
    labels TEXT,
    last_ts INTEGER NOT NULL DEFAULT 0,
    UNIQUE (path, meta)
  );
  CREATE TABLE IF NOT EXISTS logs (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    source INTEGER NOT NULL,
    namespace TEXT, pod TEXT, container TEXT, level TEXT, stream TEXT,
    body TEXT NOT NULL
  );
  -- Each index ends with the rowid implicitly, so "this namespace, newest first" is one index walk.
  CREATE INDEX IF NOT EXISTS logs_namespace ON logs (namespace);
  CREATE INDEX IF NOT EXISTS logs_pod ON logs (pod);
  -- Partial: only values that narrow a search (errors and warnings, stderr), so the bulk of the rows
  -- (info, stdout) costs no index entry. Queries repeat these WHERE terms literally to use them.
  CREATE INDEX IF NOT EXISTS logs_level ON logs (level) WHERE ${NOTABLE_LEVEL};
  CREATE INDEX IF NOT EXISTS logs_stream ON logs (stream) WHERE ${STDERR};
  -- No index on source or container: container, label, node and file filters name pods through the
  -- sources table and use logs_pod (an index costs ~2 µs per inserted row; the container one measured
  -- 19.5-22.4 → ~18 µs). The container column stays, unindexed, to check a pod's rows.
  -- Contentless: the message is in logs.body already; contentless_delete lets retention delete by rowid.
  -- '_' is part of a word, as in Elasticsearch's standard analyzer (request_id is one token).
  -- Diacritics are kept, as Elasticsearch's standard analyzer keeps them.
  CREATE VIRTUAL TABLE IF NOT EXISTS logs_fts USING fts5(message, content='', contentless_delete=1, tokenize="unicode61 remove_diacritics 0 tokenchars '_'");
  -- Merging 8 segments at a time instead of 4: less rewriting per inserted row (measured ~1 µs of ~15).
  INSERT INTO logs_fts (logs_fts, rank) VALUES ('automerge', 8);
`;

/**
 * Time ranges of rows that arrived late (their time more than an hour before their arrival), with when
 * they arrived: retention keeps them for the retention period from arrival (see arrivals.ts).
 */
const LATE_ARRIVALS_TABLE = `
  CREATE TABLE IF NOT EXISTS late_arrivals (
    id INTEGER PRIMARY KEY,
    first INTEGER NOT NULL, -- record time of the range's oldest row, µs
    last INTEGER NOT NULL, -- record time of its newest row, µs
    arrived INTEGER NOT NULL -- when its newest rows arrived, µs
  );
`;

/** Apply settings and create the tables (writer), or check the version (reader). */
export function createSchema(db: Database.Database, path: string, writer: boolean): void {
  if (writer) {
    // Both must be chosen before the first table exists. 16 KiB pages: fewer splits of the column
    // indexes, which grow at many points at once (measured 21 → 17 µs per row with 4 KiB → 16 KiB).
    // auto_vacuum lets retention give space back to the file system.
    db.pragma('page_size = 16384');
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // Checkpoint every 4096 pages (64 MiB of WAL) instead of 1000: fewer checkpoints (each an fsync of
    // the database file, on the writer thread) and pages changed by several commits copied once (measured
    // 19.8 → 18.5 µs per stored row); the WAL file is kept at that size.
    db.pragma('wal_autocheckpoint = 4096');
    db.pragma('journal_size_limit = 83886080');
    db.pragma('busy_timeout = 5000');
    db.pragma('temp_store = MEMORY');
    // 16 MB of page cache per shard (two shards: the 32 MB one store had). Measured in file_to_local_store:
    // 32 → 16 MB per shard, 69-72k → 61-73k records/s (within the machine's noise), peak RSS 309-317 → 284-295 MB.
    db.pragma('cache_size = -16000');
    db.pragma('analysis_limit = 1000');
  }
  const hasLogs = db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'logs'`).get() !== undefined;
  const hasMeta = db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'meta'`).get() !== undefined;
  const version = hasMeta ? (db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get() as string | undefined) : undefined;
  if (hasLogs && Number(version ?? 1) !== STORE_SCHEMA_VERSION) {
    throw Object.assign(
      new Error(
        `the local store ${path} has schema version ${version ?? 1}; this logferry reads version ${STORE_SCHEMA_VERSION}: move the store directory away to start a new one`,
      ),
      { code: 'SCHEMA' },
    );
  }
  if (!writer) {
    if (!hasLogs) throw Object.assign(new Error(`${path} is not a logferry local store (no logs table)`), { code: 'SCHEMA' });
    return;
  }
  db.exec('BEGIN');
  if (!hasLogs) {
    db.exec(TABLES);
    db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)`).run(String(STORE_SCHEMA_VERSION));
  }
  // Added to version 4 without a new version number, also to stores written before it: readers never
  // use it, and a writer without it only deletes by record time, as writers did before it existed.
  db.exec(LATE_ARRIVALS_TABLE);
  db.exec('COMMIT');
}
