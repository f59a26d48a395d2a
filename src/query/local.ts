/** Queries over the embedded local store: SQL filters on indexed columns, FTS5 for free text. */
import { existsSync } from 'node:fs';
import { UsageError } from '../cli/errors.js';
import { dedot } from '../event/metadata.js';
import { LocalStore, storePath } from '../store/local-store.js';
import type { FoundRecord, LogQuery, QueryBackend, TextTerm } from './query.js';

const COLUMNS: Record<string, string> = {
  'kubernetes.namespace': 'namespace',
  'kubernetes.pod.name': 'pod',
  'kubernetes.container.name': 'container',
  'kubernetes.node.name': 'node',
  'log.level': 'level',
  stream: 'stream',
  'service.name': 'service',
};

function ftsTerm(term: TextTerm): string {
  const prefix = term.kind === 'word' && term.value.endsWith('*') && term.value.length > 1;
  const value = prefix ? term.value.slice(0, -1) : term.value;
  return `"${value.replaceAll('"', '""')}"${prefix ? '*' : ''}`;
}

function jsonPath(field: string): string {
  return '$' + field.split('.').map((part) => `."${part.replaceAll('"', '')}"`).join('');
}

export class LocalStoreBackend implements QueryBackend {
  readonly description: string;
  private readonly store: LocalStore;

  constructor(dataDir: string) {
    const path = storePath(dataDir);
    if (!existsSync(path)) {
      throw new UsageError(`no local store at ${path}: run \`logferry run\` (or \`npm start\`) first, or pass --data-dir`);
    }
    this.store = new LocalStore(dataDir, { readonly: true });
    this.description = `local store ${path}`;
  }

  async search(query: LogQuery): Promise<FoundRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, ...values: unknown[]) => {
      where.push(clause);
      params.push(...values);
    };
    if (query.fromMicros !== undefined) add('l.ts >= ?', query.fromMicros);
    if (query.toMicros !== undefined) add('l.ts < ?', query.toMicros);
    if (query.namespace !== undefined) add('l.namespace = ?', query.namespace);
    if (query.pod !== undefined) add(/[*?[]/.test(query.pod) ? 'l.pod GLOB ?' : 'l.pod = ?', query.pod);
    if (query.container !== undefined) add('l.container = ?', query.container);
    if (query.level !== undefined) add('l.level = ?', query.level);
    if (query.stream !== undefined) add('l.stream = ?', query.stream);
    if (query.node !== undefined) add('l.node = ?', query.node);
    for (const label of query.labels) {
      const path = jsonPath(dedot(label.key));
      if (label.op === '=') add(`json_extract(l.labels, ?) = ?`, path, label.value);
      else if (label.op === '!=') add(`(json_extract(l.labels, ?) IS NULL OR json_extract(l.labels, ?) != ?)`, path, path, label.value);
      else if (label.op === 'exists') add(`json_extract(l.labels, ?) IS NOT NULL`, path);
      else add(`json_extract(l.labels, ?) IS NULL`, path);
    }
    const text = [...query.text];
    for (const term of query.fields) {
      if (term.field === 'message') {
        text.push({ kind: 'phrase', value: term.value, negate: term.negate });
        continue;
      }
      const column = COLUMNS[term.field];
      const clause = column ? `l.${column} = ?` : `CAST(json_extract(l.doc, ?) AS TEXT) = ?`;
      const values = column ? [term.value] : [jsonPath(term.field), term.value];
      add(term.negate ? `NOT coalesce(${clause}, 0)` : clause, ...values);
    }
    const positive = text.filter((t) => !t.negate).map(ftsTerm);
    const negative = text.filter((t) => t.negate).map(ftsTerm);
    const match = positive.join(' ') + negative.map((n) => ` NOT ${n}`).join('');
    if (positive.length > 0 && query.after === undefined) return this.searchText(match, where, params, query);
    if (positive.length > 0) {
      add('l.rowid IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)', match);
    } else if (negative.length > 0) {
      add('l.rowid NOT IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)', negative.join(' OR '));
    }
    const newest = query.order === 'newest';
    if (query.after !== undefined) {
      const rowid = Number(query.after.tiebreak);
      add(newest ? '(l.ts < ? OR (l.ts = ? AND l.rowid < ?))' : '(l.ts > ? OR (l.ts = ? AND l.rowid > ?))', query.after.tsMicros, query.after.tsMicros, rowid);
    }
    const direction = newest ? 'DESC' : 'ASC';
    const sql = `SELECT l.rowid AS rowid, l.id AS id, l.ts AS ts, l.doc AS doc FROM logs l ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY l.ts ${direction}, l.rowid ${direction} LIMIT ?`;
    let rows: Array<{ rowid: number; id: string; ts: number; doc: string }>;
    try {
      rows = this.store.db.prepare(sql).all(...params, query.limit) as typeof rows;
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_ERROR' && /fts5/i.test((error as Error).message)) {
        throw new UsageError(`query: the full-text part could not be read (${(error as Error).message})`);
      }
      throw this.store.wrap(error, 'query failed');
    }
    return rows.map((row) => ({ id: row.id, tsMicros: row.ts, doc: JSON.parse(row.doc) as Record<string, any>, cursor: { tsMicros: row.ts, tiebreak: String(row.rowid) } }));
  }

  /**
   * Free text, first page: walk the full-text matches newest-inserted first and stop early, instead of
   * collecting every match to sort it (a common word over 5M rows: ~2 s → under 10 ms). Insertion order is
   * time order except for backfilled records, so a window of candidates is sorted by time before the page
   * is cut. Later pages (a cursor) take the exact path.
   */
  private searchText(match: string, where: string[], params: unknown[], query: LogQuery): FoundRecord[] {
    const newest = query.order === 'newest';
    const direction = newest ? 'DESC' : 'ASC';
    const window = Math.min(query.limit * 10, 100_000);
    const sql = `SELECT l.rowid AS rowid, l.id AS id, l.ts AS ts, l.doc AS doc FROM logs_fts f JOIN logs l ON l.rowid = f.rowid
      WHERE logs_fts MATCH ?${where.length ? ' AND ' + where.join(' AND ') : ''} ORDER BY f.rowid ${direction} LIMIT ?`;
    let rows: Array<{ rowid: number; id: string; ts: number; doc: string }>;
    try {
      rows = this.store.db.prepare(sql).all(match, ...params, window) as typeof rows;
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_ERROR' && /fts5/i.test((error as Error).message)) {
        throw new UsageError(`query: the full-text part could not be read (${(error as Error).message})`);
      }
      throw this.store.wrap(error, 'query failed');
    }
    rows.sort((a, b) => (newest ? b.ts - a.ts || b.rowid - a.rowid : a.ts - b.ts || a.rowid - b.rowid));
    return rows.slice(0, query.limit).map((row) => ({ id: row.id, tsMicros: row.ts, doc: JSON.parse(row.doc) as Record<string, any>, cursor: { tsMicros: row.ts, tiebreak: String(row.rowid) } }));
  }

  async close(): Promise<void> {
    this.store.close();
  }
}
