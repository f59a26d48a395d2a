/**
 * Queries over the embedded local store. Rows are keyed by a time-ordered rowid, so every query is a walk
 * in time order that stops at the limit: down the primary key, down a column index (each index ends with
 * the rowid), or down the full-text index's matches (FTS5 rowids are the same keys).
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { UsageError } from '../cli/errors.js';
import { LocalStore, refuseUnshardedStore, SLOT_BITS, STORE_SHARDS, storePath } from '../store/local-store.js';
import { rebuildDocument } from '../store/rows.js';
import { COMMON_LEVELS, NOTABLE_LEVEL, STDERR } from '../store/schema.js';
import { fieldMatch, ftsExpression, ftsOf, groupCondition, labelCondition, type Condition } from './local-conditions.js';
import { levelValues, type FieldTerm } from './query-text.js';
import type { FoundRecord, LogQuery, QueryBackend } from './query.js';

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

/**
 * A plain field term of the top-level conjunction. Positive source terms also narrow the pods to walk
 * (container, pod patterns: see compile); an exclusion matches records without the field, as in Elasticsearch.
 */
function fieldCondition(plan: Plan, term: FieldTerm): void {
  const match = fieldMatch(term);
  if (match.place === 'source') {
    (term.negate ? plan.notSource : plan.source).push(match);
    return;
  }
  if (match.place === 'body') {
    plan.add(term.negate ? `NOT coalesce(${match.sql}, 0)` : match.sql, ...match.params);
    return;
  }
  plan.add(term.negate ? `coalesce(NOT (${match.sql}), 1)` : match.sql, ...match.params);
  if (term.negate) return;
  // unindexed or a pattern: walk the pods that have it (see LocalStoreBackend.compile)
  if (term.field === 'kubernetes.container.name' || (term.field === 'kubernetes.pod.name' && term.pattern)) {
    const column = term.field === 'kubernetes.container.name' ? 'container' : 'pod';
    plan.source.push({ sql: term.pattern ? `${column} GLOB ?` : `${column} = ?`, params: match.params });
  }
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
    // A level that means several stored values (warn: warn, warning) is walked one value at a time and
    // merged, like pods: `level IN (...)` would make SQLite sort every matching row by time.
    let levelWalks: string[] | undefined;
    const levelTerms = query.fields.filter((t) => t.field === 'log.level' && !t.negate && !t.pattern).map((t) => t.value);
    for (const level of query.level !== undefined ? [query.level, ...levelTerms] : levelTerms) {
      const levels = levelValues(level);
      if (levels.length > 1 && levelWalks === undefined) levelWalks = levels;
      else plan.add(levels.length > 1 ? `l.level IN (${levels.map(() => '?').join(', ')})` : 'l.level = ?', ...levels);
      if (levels.every((l) => !COMMON_LEVELS.includes(l))) plan.add(NOTABLE_LEVEL);
    }
    if (query.stream !== undefined) plan.add(query.stream === 'stderr' ? STDERR : 'l.stream = ?', ...(query.stream === 'stderr' ? [] : [query.stream]));
    if (query.node !== undefined) plan.source.push({ sql: 'node = ?', params: [query.node] });
    for (const label of query.labels) plan.source.push(labelCondition(label));
    for (const term of query.fields) if (!(term.field === 'log.level' && !term.negate && !term.pattern)) fieldCondition(plan, term);

    const positive = query.text.filter((t) => !t.negate).map(ftsExpression);
    const negative = query.text.filter((t) => t.negate).map(ftsExpression);
    for (const group of query.groups ?? []) {
      // Words-only groups join the full-text expression (the walk stays down the FTS matches); groups
      // naming fields are checked row by row.
      const fts = ftsOf(group);
      const excluded = group.kind === 'not' ? ftsOf(group.child) : undefined;
      if (fts !== undefined) positive.push(fts);
      else if (excluded !== undefined) negative.push(excluded);
      else {
        const condition = groupCondition(group);
        plan.add(condition.sql, ...condition.params);
      }
    }
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
    if (levelWalks !== undefined && (positive.length > 0 || pods !== undefined)) {
      // walked down the full-text matches or a pod's index anyway: the levels are a check per row
      plan.add(`l.level IN (${levelWalks.map(() => '?').join(', ')})`, ...levelWalks);
      levelWalks = undefined;
    }

    const from = positive.length > 0 ? 'logs_fts f CROSS JOIN logs l ON l.rowid = f.rowid' : 'logs l';
    const match = negative.reduce((expr, not) => `(${expr} NOT ${not})`, `(${positive.join(' AND ')})`);
    const head: Condition[] = positive.length > 0 ? [{ sql: 'logs_fts MATCH ?', params: [match] }] : [];
    const statement = (extra: Condition[]) => {
      const all = [...head, ...extra, ...plan.row];
      const where = all.length > 0 ? 'WHERE ' + all.map((c) => c.sql).join(' AND ') : '';
      return {
        sql: `SELECT l.rowid AS rowid, l.id AS id, l.source AS source, l.body AS body FROM ${from} ${where} ORDER BY ${key} ${newest ? 'DESC' : 'ASC'} LIMIT ?`,
        params: [...all.flatMap((c) => c.params), query.limit],
      };
    };
    if (levelWalks !== undefined) return { statements: levelWalks.map((level) => statement([{ sql: 'l.level = ?', params: [level] }])) };
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
    this.eachStatement(query, (store, shard, sql, params, statements) => {
      if (statements > 1) merge = true;
      for (const row of store.db
        .prepare(sql)
        .safeIntegers(true)
        .all(...params) as Row[]) {
        row.shard = shard;
        rows.push(row);
      }
    });
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

  /** Counted the way search walks (up to cap + 1 rows per statement), so a count costs what a page of that size does. */
  async count(query: LogQuery, cap: number): Promise<{ count: number; exact: boolean }> {
    let total = 0;
    this.eachStatement({ ...query, after: undefined, limit: cap + 1 }, (store, _shard, sql, params) => {
      total += store.db
        .prepare(`SELECT count(*) FROM (${sql})`)
        .pluck()
        .get(...params) as number;
    });
    return total > cap ? { count: cap, exact: false } : { count: total, exact: true };
  }

  /** Each shard's statements for a query; a full-text expression SQLite cannot read is a usage error. */
  private eachStatement(query: LogQuery, run: (store: LocalStore, shard: number, sql: string, params: unknown[], statements: number) => void): void {
    for (const [shard, store] of this.stores.entries()) {
      try {
        const { statements } = this.compile(query, store);
        for (const { sql, params } of statements) run(store, shard, sql, params, statements.length);
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_ERROR' && /fts5|MATCH/i.test((error as Error).message)) {
          throw new UsageError(`query: the full-text part could not be read (${(error as Error).message})`);
        }
        throw store.wrap(error, 'query failed');
      }
    }
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
