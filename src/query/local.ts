/**
 * Queries over the embedded local store. Rows are keyed by a time-ordered rowid, so every query is a walk
 * in time order that stops at the limit: down the primary key, down a column index (each index ends with
 * the rowid), or down the full-text index's matches (FTS5 rowids are the same keys).
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { UsageError } from '../cli/errors.js';
import { dedot } from '../event/metadata.js';
import { LocalStore, refuseUnshardedStore, SLOT_BITS, STORE_SHARDS, storePath } from '../store/local-store.js';
import { rebuildDocument } from '../store/rows.js';
import { COMMON_LEVELS, NOTABLE_LEVEL, STDERR } from '../store/schema.js';
import type { FieldTerm, FoundRecord, LabelRequirement, LogQuery, QueryBackend, TextTerm } from './query.js';

/** fields that are columns of every row (indexed) */
const ROW_COLUMNS: Record<string, string> = {
  'kubernetes.namespace': 'namespace',
  'kubernetes.pod.name': 'pod',
  'kubernetes.container.name': 'container',
  'log.level': 'level',
  stream: 'stream',
};

/** per-source fields: in the sources table, not in a row's body */
const SOURCE_PREFIXES = ['kubernetes.', 'container.', 'host.', 'service.'];

export function ftsExpression(term: TextTerm): string {
  const prefix = term.kind === 'word' && term.value.endsWith('*') && term.value.length > 1;
  const value = prefix ? term.value.slice(0, -1) : term.value;
  return `"${value.replaceAll('"', '""')}"${prefix ? '*' : ''}`;
}

function jsonPath(field: string): string {
  return (
    '$' +
    field
      .split('.')
      .map((part) => `."${part.replaceAll('"', '')}"`)
      .join('')
  );
}

interface Row {
  /** which store shard the row is in (set after the query) */
  shard: number;
  rowid: bigint;
  id: string;
  source: bigint;
  body: string;
}

interface Source {
  path: string;
  meta: string;
}

interface Condition {
  sql: string;
  params: unknown[];
}

/** A query being assembled: conditions on the row, and conditions on its source (file + pod metadata). */
class Plan {
  readonly row: Condition[] = [];
  /** all must hold for a row's source */
  readonly source: Condition[] = [];
  /** none may hold for a row's source */
  readonly notSource: Condition[] = [];
  add(sql: string, ...params: unknown[]): void {
    this.row.push({ sql, params });
  }
}

function labelCondition(label: LabelRequirement): Condition {
  const path = jsonPath(dedot(label.key));
  const values = label.values ?? [];
  const list = values.map(() => '?').join(', ');
  switch (label.op) {
    case '=':
      return { sql: 'json_extract(labels, ?) = ?', params: [path, values[0]] };
    case '!=':
      return { sql: 'coalesce(json_extract(labels, ?) != ?, 1)', params: [path, values[0]] };
    case 'in':
      return { sql: `json_extract(labels, ?) IN (${list})`, params: [path, ...values] };
    case 'notin':
      return { sql: `coalesce(json_extract(labels, ?) NOT IN (${list}), 1)`, params: [path, ...values] };
    case 'exists':
      return { sql: 'json_type(labels, ?) IS NOT NULL', params: [path] };
    case '!exists':
      return { sql: 'json_type(labels, ?) IS NULL', params: [path] };
  }
}

function fieldCondition(plan: Plan, term: FieldTerm, text: TextTerm[]): void {
  if (term.field === 'message') {
    text.push({ kind: 'phrase', value: term.value, negate: term.negate });
    return;
  }
  const column = ROW_COLUMNS[term.field];
  let source: Condition | undefined;
  if (column !== undefined) {
    plan.add(term.negate ? `coalesce(l.${column} != ?, 1)` : `l.${column} = ?`, term.value);
    // unindexed: walk the pods that have it (see LocalStoreBackend.compile)
    if (column === 'container' && !term.negate) plan.source.push({ sql: 'container = ?', params: [term.value] });
  } else if (term.field === 'log.file.path') {
    source = { sql: 'path = ?', params: [term.value] };
  } else if (term.field === 'kubernetes.node.name') {
    source = { sql: 'node = ?', params: [term.value] };
  } else if (SOURCE_PREFIXES.some((prefix) => term.field.startsWith(prefix))) {
    source = { sql: `CAST(json_extract('{' || meta || '}', ?) AS TEXT) = ?`, params: [jsonPath(term.field), term.value] };
  } else {
    const clause = `CAST(json_extract(l.body, ?) AS TEXT) = ?`;
    plan.add(term.negate ? `NOT coalesce(${clause}, 0)` : clause, jsonPath(term.field), term.value);
  }
  if (source !== undefined) (term.negate ? plan.notSource : plan.source).push(source);
}

/** Up to this many pods, a query over a set of pods walks each pod's index separately and merges. */
const MAX_POD_WALKS = 64;

export interface CompiledQuery {
  /** one statement, or one per pod whose results are merged */
  statements: Array<{ sql: string; params: unknown[] }>;
}

export class LocalStoreBackend implements QueryBackend {
  readonly description: string;
  /** the sink commits at least every 200 ms; files are read as they grow */
  readonly followLagMs = 5000;
  /** the store's shards that exist (a shard's file appears with its first record) */
  private readonly stores: LocalStore[] = [];
  /** per shard: source id → path and metadata */
  private readonly sources: Array<Map<number, Source>> = [];
  private readonly sourceLookups: Database.Statement[] = [];

  constructor(dataDir: string) {
    const path = storePath(dataDir);
    refuseUnshardedStore(dataDir);
    const shards = Array.from({ length: STORE_SHARDS }, (_, shard) => shard).filter((shard) => existsSync(storePath(dataDir, shard)));
    if (shards.length === 0) {
      throw new UsageError(`no local store in ${dirname(path)}: run \`logferry run\` (or \`npm start\`) first, or pass --data-dir`);
    }
    try {
      for (const shard of shards) {
        const store = new LocalStore(dataDir, { readonly: true, shard });
        this.stores.push(store);
        this.sources.push(new Map());
        this.sourceLookups.push(store.db.prepare('SELECT path, meta FROM sources WHERE id = ?'));
      }
    } catch (error) {
      for (const store of this.stores) store.close();
      throw error;
    }
    this.description = `local store ${dirname(path)}`;
  }

  /**
   * The SQL for a query. Every statement walks rows newest (or oldest) first and stops at the limit: down
   * the full-text matches when there are words, else down the primary key or one column's index. Filters
   * on labels, node or file are resolved to sources, and to their pods: a few pods are walked one by one
   * on logs_pod and merged (no sort of every matching row), many pods are checked row by row.
   */
  compile(query: LogQuery, store: LocalStore = this.stores[0]): CompiledQuery {
    const plan = new Plan();
    const newest = query.order === 'newest';
    const text = [...query.text];
    if (query.namespace !== undefined) plan.add('l.namespace = ?', query.namespace);
    if (query.pod !== undefined) {
      if (/[*?]/.test(query.pod)) plan.source.push({ sql: 'pod GLOB ?', params: [query.pod] });
      else plan.add('l.pod = ?', query.pod);
    }
    if (query.container !== undefined) {
      // No container index (it cost ~2-4 µs per stored row): the pods that have the container are walked
      // on logs_pod, like a label filter, and each of their rows is checked.
      plan.source.push({ sql: 'container = ?', params: [query.container] });
      plan.add('l.container = ?', query.container);
    }
    if (query.level !== undefined) {
      plan.add('l.level = ?', query.level);
      if (!COMMON_LEVELS.includes(query.level)) plan.add(NOTABLE_LEVEL);
    }
    if (query.stream !== undefined) plan.add(query.stream === 'stderr' ? STDERR : 'l.stream = ?', ...(query.stream === 'stderr' ? [] : [query.stream]));
    if (query.node !== undefined) plan.source.push({ sql: 'node = ?', params: [query.node] });
    for (const label of query.labels) plan.source.push(labelCondition(label));
    for (const term of query.fields) fieldCondition(plan, term, text);

    const positive = text.filter((t) => !t.negate).map(ftsExpression);
    const negative = text.filter((t) => t.negate).map(ftsExpression);
    const key = positive.length > 0 ? 'f.rowid' : 'l.rowid';
    if (query.fromMicros !== undefined) plan.add(`${key} >= (? << ${SLOT_BITS})`, Math.ceil(query.fromMicros));
    if (query.toMicros !== undefined) plan.add(`${key} < (? << ${SLOT_BITS})`, Math.ceil(query.toMicros));
    if (query.after !== undefined) plan.add(`${key} ${newest ? '<' : '>'} ?`, BigInt(query.after.tiebreak));
    if (negative.length > 0 && positive.length === 0) {
      // Checked per candidate row: cheap for a page, unlike collecting every row that has the word.
      plan.add('NOT EXISTS (SELECT 1 FROM logs_fts WHERE logs_fts.rowid = l.rowid AND logs_fts MATCH ?)', negative.join(' OR '));
    }
    let pods: string[] | undefined;
    if (plan.source.length > 0) {
      const where = plan.source.map((c) => c.sql).join(' AND ');
      const params = plan.source.flatMap((c) => c.params);
      plan.add(`l.source IN (SELECT id FROM sources WHERE ${where})`, ...params);
      const exactPod = query.pod !== undefined && !/[*?]/.test(query.pod);
      if (positive.length === 0 && !exactPod) {
        const found = store.db
          .prepare(`SELECT DISTINCT pod FROM sources WHERE ${where}`)
          .pluck()
          .all(...params) as Array<string | null>;
        if (found.length <= MAX_POD_WALKS && !found.includes(null)) pods = found as string[];
      }
    }
    for (const condition of plan.notSource) plan.add(`l.source NOT IN (SELECT id FROM sources WHERE ${condition.sql})`, ...condition.params);

    const from = positive.length > 0 ? 'logs_fts f CROSS JOIN logs l ON l.rowid = f.rowid' : 'logs l';
    const head: Condition[] =
      positive.length > 0 ? [{ sql: 'logs_fts MATCH ?', params: [positive.join(' ') + negative.map((n) => ` NOT ${n}`).join('')] }] : [];
    const statement = (extra: Condition[]) => {
      const all = [...head, ...extra, ...plan.row];
      const where = all.length > 0 ? 'WHERE ' + all.map((c) => c.sql).join(' AND ') : '';
      return {
        sql: `SELECT l.rowid AS rowid, l.id AS id, l.source AS source, l.body AS body FROM ${from} ${where} ORDER BY ${key} ${newest ? 'DESC' : 'ASC'} LIMIT ?`,
        params: [...all.flatMap((c) => c.params), query.limit],
      };
    };
    if (pods === undefined || positive.length > 0) return { statements: [statement([])] };
    return { statements: pods.map((pod) => statement([{ sql: 'l.pod = ?', params: [pod] }])) };
  }

  /**
   * Each shard answers the query, newest (or oldest) first up to the limit; the answers are merged by
   * rowid (unique across shards) and cut to the limit.
   */
  async search(query: LogQuery): Promise<FoundRecord[]> {
    let rows: Row[] = [];
    let merge = this.stores.length > 1;
    for (const [shard, store] of this.stores.entries()) {
      try {
        const { statements } = this.compile(query, store);
        if (statements.length > 1) merge = true;
        for (const { sql, params } of statements) {
          for (const row of store.db
            .prepare(sql)
            .safeIntegers(true)
            .all(...params) as Row[]) {
            row.shard = shard;
            rows.push(row);
          }
        }
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_ERROR' && /fts5|MATCH/i.test((error as Error).message)) {
          throw new UsageError(`query: the full-text part could not be read (${(error as Error).message})`);
        }
        throw store.wrap(error, 'query failed');
      }
    }
    if (merge) {
      const newest = query.order === 'newest';
      rows.sort((a, b) => (a.rowid === b.rowid ? 0 : a.rowid < b.rowid === newest ? 1 : -1));
      rows = rows.slice(0, query.limit);
    }
    return rows.map((row) => {
      const source = this.source(row.shard, Number(row.source));
      const tsMicros = Number(row.rowid >> BigInt(SLOT_BITS));
      return { id: row.id, tsMicros, doc: rebuildDocument(row.body, source.path, source.meta), cursor: { tsMicros, tiebreak: String(row.rowid) } };
    });
  }

  private source(shard: number, id: number): Source {
    const sources = this.sources[shard];
    let source = sources.get(id);
    if (source === undefined) {
      source = (this.sourceLookups[shard].get(id) as Source | undefined) ?? { path: '', meta: '' };
      sources.set(id, source);
    }
    return source;
  }

  /** SQLite's plan for a query in each shard, one step per line (tests check that queries walk an index). */
  explain(query: LogQuery): string {
    return this.stores
      .map((store) =>
        this.compile(query, store)
          .statements.map(({ sql, params }) =>
            (store.db.prepare('EXPLAIN QUERY PLAN ' + sql).all(...params) as Array<{ detail: string }>).map((step) => step.detail).join('\n'),
          )
          .join('\n--\n'),
      )
      .join('\n==\n');
  }

  async close(): Promise<void> {
    for (const store of this.stores) store.close();
  }
}
