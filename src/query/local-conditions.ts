/**
 * The pieces of the local store's SQL for one term: full-text expressions (FTS5), field conditions on the
 * row, its source (file + pod metadata) or its JSON body, label conditions, and whole OR / NOT groups.
 * local.ts decides the plan (which index a query walks); this module only says what a term means.
 */
import { dedot } from '../event/metadata.js';
import { levelValues, type FieldTerm, type QueryNode, type TextTerm } from './query-text.js';
import type { LabelRequirement } from './query.js';

export interface Condition {
  sql: string;
  params: unknown[];
}

/** fields that are columns of every row (indexed) */
export const ROW_COLUMNS: Record<string, string> = {
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

export function jsonPath(field: string): string {
  return (
    '$' +
    field
      .split('.')
      .map((part) => `."${part.replaceAll('"', '')}"`)
      .join('')
  );
}

/** A query value with `*` / `?` as a GLOB pattern: `[` would open a character class, so it is escaped. */
export function globPattern(value: string): string {
  return value.replaceAll('[', '[[]');
}

export function labelCondition(label: LabelRequirement): Condition {
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

/**
 * What a field term tests, positively: `row` conditions read columns of logs (alias l), `source` ones
 * columns of the sources table, `body` ones the row's JSON body. Any of them may be NULL when the field is
 * absent: callers decide what absence means (a match for an exclusion, as in Elasticsearch).
 */
export function fieldMatch(term: FieldTerm): Condition & { place: 'row' | 'source' | 'body'; values: string[] } {
  const values = term.field === 'log.level' && !term.pattern ? levelValues(term.value) : [term.pattern ? globPattern(term.value) : term.value];
  const compare = (expr: string) => (term.pattern ? `${expr} GLOB ?` : values.length > 1 ? `${expr} IN (${values.map(() => '?').join(', ')})` : `${expr} = ?`);
  const column = ROW_COLUMNS[term.field];
  if (column !== undefined) return { place: 'row', sql: compare(`l.${column}`), params: values, values };
  if (term.field === 'log.file.path') return { place: 'source', sql: compare('path'), params: values, values };
  if (term.field === 'kubernetes.node.name') return { place: 'source', sql: compare('node'), params: values, values };
  if (SOURCE_PREFIXES.some((prefix) => term.field.startsWith(prefix))) {
    return { place: 'source', sql: compare(`CAST(json_extract('{' || meta || '}', ?) AS TEXT)`), params: [jsonPath(term.field), ...values], values };
  }
  return { place: 'body', sql: compare('CAST(json_extract(l.body, ?) AS TEXT)'), params: [jsonPath(term.field), ...values], values };
}

/**
 * A tree of words and phrases as one FTS5 expression, when it is one (FTS5 has no unary NOT: an AND with
 * only exclusions, or anything naming a field, is not).
 */
export function ftsOf(node: QueryNode): string | undefined {
  if (node.kind === 'text') return ftsExpression(node.term);
  if (node.kind === 'or') {
    const parts = node.children.map(ftsOf);
    return parts.every((part) => part !== undefined) ? `(${parts.join(' OR ')})` : undefined;
  }
  if (node.kind !== 'and') return undefined;
  const positive: string[] = [];
  const negative: string[] = [];
  for (const child of node.children) {
    const part = child.kind === 'not' ? ftsOf(child.child) : ftsOf(child);
    if (part === undefined) return undefined;
    (child.kind === 'not' ? negative : positive).push(part);
  }
  if (positive.length === 0) return undefined;
  return negative.reduce((expr, not) => `(${expr} NOT ${not})`, `(${positive.join(' AND ')})`);
}

/** Whether a row has these words: checked per candidate row, by rowid, in the full-text index. */
export function hasText(fts: string): Condition {
  return { sql: 'EXISTS (SELECT 1 FROM logs_fts WHERE logs_fts.rowid = l.rowid AND logs_fts MATCH ?)', params: [fts] };
}

/** An OR / NOT group as a condition on a row that is always true or false (never NULL, so NOT is exact). */
export function groupCondition(node: QueryNode): Condition {
  const fts = ftsOf(node);
  if (fts !== undefined) return hasText(fts);
  switch (node.kind) {
    case 'text':
      return hasText(ftsExpression(node.term));
    case 'field': {
      const match = fieldMatch(node.term);
      if (match.place === 'source') return { sql: `l.source IN (SELECT id FROM sources WHERE ${match.sql})`, params: match.params };
      return { sql: `coalesce(${match.sql}, 0)`, params: match.params };
    }
    case 'not': {
      const inner = groupCondition(node.child);
      return { sql: `NOT (${inner.sql})`, params: inner.params };
    }
    case 'and':
    case 'or': {
      const parts = node.children.map(groupCondition);
      return { sql: `(${parts.map((p) => p.sql).join(node.kind === 'and' ? ' AND ' : ' OR ')})`, params: parts.flatMap((p) => p.params) };
    }
  }
}
