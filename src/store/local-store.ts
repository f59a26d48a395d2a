/**
 * The embedded local store: SQLite (better-sqlite3) under the data dir, the default output when no
 * Elasticsearch is configured. One row per record, keyed by the record's deterministic id (a replay
 * inserts nothing), the ECS document as JSON, columns for the filters, and an FTS5 index on the message.
 *
 * Durability: WAL with synchronous=FULL. Records are acknowledged (and checkpoints, which are fsynced,
 * move) right after COMMIT returns, so the commit must be on disk by then: with NORMAL a power loss could
 * drop the last commits while the checkpoint survived. FULL costs one WAL fsync per transaction of
 * thousands of records.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const STORE_SCHEMA_VERSION = 1;

export interface StoredRow {
  id: string;
  /** microseconds since the epoch (ordering, ranges) */
  ts: number;
  namespace: string | null;
  pod: string | null;
  container: string | null;
  node: string | null;
  level: string | null;
  stream: string | null;
  service: string | null;
  labels: string | null;
  message: string;
  doc: string;
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
  const seconds = Date.parse(timestamp.slice(0, 19) + 'Z');
  if (Number.isNaN(seconds)) {
    const fallback = Date.parse(timestamp);
    return Number.isNaN(fallback) ? 0 : fallback * 1000;
  }
  const dot = timestamp.indexOf('.', 19);
  let micros = 0;
  if (dot > 0) {
    let digits = '';
    for (let i = dot + 1; i < timestamp.length && digits.length < 6; i++) {
      const c = timestamp.charCodeAt(i);
      if (c < 48 || c > 57) break;
      digits += timestamp[i];
    }
    micros = Number(digits.padEnd(6, '0'));
  }
  return seconds * 1000 + micros;
}

export function storePath(dataDir: string): string {
  return join(dataDir, 'store', 'logs.sqlite');
}

export class LocalStore {
  readonly db: Database.Database;
  readonly path: string;
  private readonly insertRow: Database.Statement;
  private readonly insertMany: (rows: StoredRow[]) => number;

  constructor(dataDir: string, options: { readonly?: boolean } = {}) {
    this.path = storePath(dataDir);
    try {
      if (!options.readonly) mkdirSync(join(dataDir, 'store'), { recursive: true });
      this.db = new Database(this.path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
      if (!options.readonly) this.migrate();
      else this.db.pragma('query_only = ON');
    } catch (error) {
      throw this.wrap(error, 'cannot open the local store');
    }
    this.insertRow = this.db.prepare(
      `INSERT OR IGNORE INTO logs (id, ts, namespace, pod, container, node, level, stream, service, labels, message, doc)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // The full-text row is inserted by hand, not by an AFTER INSERT trigger: measured on this machine the
    // trigger form ran at 18k rows/s and the explicit statement at 48k rows/s (SQLite alone, same schema).
    const insertText = this.db.prepare('INSERT INTO logs_fts (rowid, message) VALUES (?, ?)');
    this.insertMany = this.db.transaction((rows: StoredRow[]) => {
      let inserted = 0;
      for (const row of rows) {
        // Positional binding: cheaper than named parameters per row.
        const result = this.insertRow.run(row.id, row.ts, row.namespace, row.pod, row.container, row.node, row.level, row.stream, row.service, row.labels, row.message, row.doc);
        if (result.changes === 1) {
          insertText.run(result.lastInsertRowid, row.message);
          inserted++;
        }
      }
      return inserted;
    });
  }

  private migrate(): void {
    const db = this.db;
    // auto_vacuum must be chosen before the first table exists.
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('journal_size_limit = 67108864');
    db.pragma('temp_store = MEMORY');
    db.pragma('cache_size = -32000');
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS logs (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        ts INTEGER NOT NULL,
        namespace TEXT, pod TEXT, container TEXT, node TEXT, level TEXT, stream TEXT, service TEXT,
        labels TEXT,
        message TEXT NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS logs_ts ON logs (ts);
      CREATE INDEX IF NOT EXISTS logs_namespace ON logs (namespace, ts);
      CREATE INDEX IF NOT EXISTS logs_pod ON logs (pod, ts);
      CREATE INDEX IF NOT EXISTS logs_container ON logs (container, ts);
      CREATE INDEX IF NOT EXISTS logs_level ON logs (level, ts);
      CREATE INDEX IF NOT EXISTS logs_stream ON logs (stream, ts);
      CREATE VIRTUAL TABLE IF NOT EXISTS logs_fts USING fts5(message, content='logs', content_rowid='rowid', tokenize='unicode61');
      DROP TRIGGER IF EXISTS logs_fts_insert;
      CREATE TRIGGER IF NOT EXISTS logs_fts_delete AFTER DELETE ON logs BEGIN
        INSERT INTO logs_fts (logs_fts, rowid, message) VALUES ('delete', old.rowid, old.message);
      END;
    `);
    const version = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string } | undefined;
    if (version === undefined) db.prepare(`INSERT INTO meta (key, value) VALUES ('schema_version', ?)`).run(String(STORE_SCHEMA_VERSION));
    else if (Number(version.value) !== STORE_SCHEMA_VERSION) {
      throw new StoreError(`local store ${this.path} has schema version ${version.value}; this logferry uses ${STORE_SCHEMA_VERSION}`, 'SCHEMA', this.path);
    }
  }

  wrap(error: unknown, what: string): StoreError {
    if (error instanceof StoreError) return error;
    const code = (error as { code?: string }).code;
    const hint =
      code === 'SQLITE_FULL'
        ? 'the disk (or the store size limit) is full: free space or lower retention'
        : code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB'
          ? 'the database file is damaged: move it away to start a new store (the agent re-reads unacknowledged lines)'
          : code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM'
            ? 'the file or its directory is not writable by this user'
            : code?.startsWith('SQLITE_IOERR')
              ? 'an I/O error: check the disk'
              : 'see the error';
    return new StoreError(`${what}: ${this.path}: ${(error as Error).message} (${code ?? 'error'}; ${hint})`, code, this.path);
  }

  /** Insert rows in one transaction; returns how many were new (the rest were already stored). */
  insert(rows: StoredRow[]): number {
    try {
      return this.insertMany(rows);
    } catch (error) {
      throw this.wrap(error, 'cannot write to the local store');
    }
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM logs').get() as { n: number }).n;
  }

  sizeBytes(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    // The WAL is transient (checkpointed, and capped by journal_size_limit), so it is not counted.
    return (pages - free) * pageSize;
  }

  /** Delete up to `limit` of the oldest rows older than `minTsMicros`; returns rows deleted. */
  deleteOlderThan(minTsMicros: number, limit: number): number {
    try {
      return this.db.prepare(`DELETE FROM logs WHERE rowid IN (SELECT rowid FROM logs WHERE ts < ? ORDER BY ts LIMIT ?)`).run(minTsMicros, limit).changes;
    } catch (error) {
      throw this.wrap(error, 'retention failed');
    }
  }

  /**
   * How many of the oldest rows to delete to get under `maxBytes`, estimated from the average row size
   * (deleting rows does not shrink the file at once: free pages and full-text tombstones lag).
   */
  rowsOverSize(maxBytes: number): number {
    const size = this.sizeBytes();
    if (size <= maxBytes) return 0;
    const rows = this.count();
    if (rows === 0) return 0;
    return Math.ceil(((size - maxBytes) / (size / rows)) * 1.1);
  }

  deleteOldest(limit: number): number {
    try {
      return this.db.prepare(`DELETE FROM logs WHERE rowid IN (SELECT rowid FROM logs ORDER BY ts LIMIT ?)`).run(limit).changes;
    } catch (error) {
      throw this.wrap(error, 'retention failed');
    }
  }

  /** Give freed pages back to the file system and fold full-text tombstones, a bounded amount at a time. */
  reclaim(): void {
    this.db.prepare(`INSERT INTO logs_fts (logs_fts, rank) VALUES ('merge', 200)`).run();
    this.db.pragma('incremental_vacuum(4000)');
  }

  checkpointWal(): void {
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  close(): void {
    try {
      this.db.close();
    } catch {
      // closing twice or after a fatal error: nothing left to release
    }
  }
}
