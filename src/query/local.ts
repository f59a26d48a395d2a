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
    if (query.fromMicros !== undefined) add('ts >= ?', query.fromMicros);
    if (query.toMicros !== undefined) add('ts < ?', query.toMicros);
    if (query.namespace !== undefined) add('namespace = ?', query.namespace);
    if (query.pod !== undefined) add(/[*?[]/.test(query.pod) ? 'pod GLOB ?' : 'pod = ?', query.pod);
    if (query.container !== undefined) add('container = ?', query.container);
    if (query.level !== undefined) add('level = ?', query.level);
    if (query.stream !== undefined) add('stream = ?', query.stream);
    if (query.node !== undefined) add('node = ?', query.node);
    for (const label of query.labels) {
      const path = jsonPath(dedot(label.key));
      if (label.op === '=') add(`json_extract(labels, ?) = ?`, path, label.value);
      else if (label.op === '!=') add(`(json_extract(labels, ?) IS NULL OR json_extract(labels, ?) != ?)`, path, path, label.value);
      else if (label.op === 'exists') add(`json_extract(labels, ?) IS NOT NULL`, path);
      else add(`json_extract(labels, ?) IS NULL`, path);
    }
    const text = [...query.text];
    for (const term of query.fields) {
      if (term.field === 'message') {
        text.push({ kind: 'phrase', value: term.value, negate: term.negate });
        continue;
      }
      const column = COLUMNS[term.field];
      const clause = column ? `${column} = ?` : `CAST(json_extract(doc, ?) AS TEXT) = ?`;
      const values = column ? [term.value] : [jsonPath(term.field), term.value];
      add(term.negate ? `NOT coalesce(${clause}, 0)` : clause, ...values);
    }
    const positive = text.filter((t) => !t.negate).map(ftsTerm);
    const negative = text.filter((t) => t.negate).map(ftsTerm);
    if (positive.length > 0) {
      add('rowid IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)', positive.join(' ') + negative.map((n) => ` NOT ${n}`).join(''));
    } else if (negative.length > 0) {
      add('rowid NOT IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)', negative.join(' OR '));
    }
    const newest = query.order === 'newest';
    if (query.after !== undefined) {
      const rowid = Number(query.after.tiebreak);
      add(newest ? '(ts < ? OR (ts = ? AND rowid < ?))' : '(ts > ? OR (ts = ? AND rowid > ?))', query.after.tsMicros, query.after.tsMicros, rowid);
    }
    const direction = newest ? 'DESC' : 'ASC';
    const sql = `SELECT rowid, id, ts, doc FROM logs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY ts ${direction}, rowid ${direction} LIMIT ?`;
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

  async close(): Promise<void> {
    this.store.close();
  }
}
