/**
 * One query model for every backend, and the parsers for what users type:
 *   free text:   words  "a phrase"  field:value  -word  -"phrase"  -field:value
 *   selector:    app=web,tier!=db,track,!canary   (like kubectl -l)
 *   time:        --since 15m | 2h | 7d, --from/--to RFC 3339 (or anything Date understands)
 */
import { UsageError } from '../cli/errors.js';
import { timestampMicros } from '../store/local-store.js';
import type { JsonObject } from '../core/json.js';

export interface TextTerm {
  kind: 'word' | 'phrase';
  value: string;
  negate: boolean;
}

export interface FieldTerm {
  field: string;
  value: string;
  negate: boolean;
}

export interface LabelRequirement {
  /** as written (dotted); backends dedot it */
  key: string;
  op: '=' | '!=' | 'in' | 'notin' | 'exists' | '!exists';
  /** one value for = and !=, the list for in / notin */
  values?: string[];
}

export interface LogQuery {
  /** microseconds since the epoch, inclusive */
  fromMicros?: number;
  /** microseconds since the epoch, exclusive */
  toMicros?: number;
  namespace?: string;
  /** glob (`web-*`) */
  pod?: string;
  container?: string;
  level?: string;
  stream?: string;
  node?: string;
  labels: LabelRequirement[];
  text: TextTerm[];
  fields: FieldTerm[];
  order: 'newest' | 'oldest';
  limit: number;
  /** continue after this record (pagination / follow) */
  after?: Cursor;
}

export interface Cursor {
  tsMicros: number;
  /** backend-specific tiebreaker (rowid in the local store, sort values in Elasticsearch) */
  tiebreak: string;
}

export interface FoundRecord {
  id: string;
  tsMicros: number;
  doc: JsonObject;
  cursor: Cursor;
}

export interface QueryBackend {
  readonly description: string;
  /**
   * How late a record may become visible after newer ones (commit batching, index refresh): following
   * re-reads this much behind the newest record seen, so late arrivals are not skipped.
   */
  readonly followLagMs: number;
  search(query: LogQuery): Promise<FoundRecord[]>;
  close(): Promise<void>;
}

/** Shorthand fields that map to first-class filters on both backends. */
export const FIELD_ALIASES: Record<string, string> = {
  namespace: 'kubernetes.namespace',
  ns: 'kubernetes.namespace',
  pod: 'kubernetes.pod.name',
  container: 'kubernetes.container.name',
  node: 'kubernetes.node.name',
  host: 'host.name',
  level: 'log.level',
  stream: 'stream',
  service: 'service.name',
  file: 'log.file.path',
};

const TOP_LEVEL_FIELDS = new Set(['message', 'stream', '@timestamp']);

/**
 * `name:` starts a field term only for a known alias, a top-level field or a dotted path (`json.user.id`):
 * `user:bob` or `http://host` stay words, searched as phrases of their tokens.
 */
function isFieldName(name: string): boolean {
  return (
    /^[A-Za-z_@][\w.@/-]*$/.test(name) && (Object.hasOwn(FIELD_ALIASES, name) || TOP_LEVEL_FIELDS.has(name) || (name.includes('.') && !name.endsWith('.')))
  );
}

export function parseQueryText(input: string): { text: TextTerm[]; fields: FieldTerm[] } {
  const text: TextTerm[] = [];
  const fields: FieldTerm[] = [];
  let i = 0;
  const n = input.length;
  while (i < n) {
    while (i < n && /\s/.test(input[i])) i++;
    if (i >= n) break;
    let negate = false;
    if (input[i] === '-' && i + 1 < n && !/\s/.test(input[i + 1])) {
      negate = true;
      i++;
    }
    if (input[i] === '"') {
      const close = input.indexOf('"', i + 1);
      if (close < 0) throw new UsageError(`query: unclosed quote at position ${i + 1} in ${JSON.stringify(input)}`);
      const value = input.slice(i + 1, close).trim();
      if (value) text.push({ kind: 'phrase', value, negate });
      i = close + 1;
      continue;
    }
    const start = i;
    while (i < n && !/\s/.test(input[i])) {
      if (input[i] === '"') {
        const close = input.indexOf('"', i + 1);
        if (close < 0) throw new UsageError(`query: unclosed quote at position ${i + 1} in ${JSON.stringify(input)}`);
        i = close + 1;
      } else i++;
    }
    const token = input.slice(start, i);
    const colon = token.indexOf(':');
    const name = colon > 0 ? token.slice(0, colon) : '';
    if (colon > 0 && isFieldName(name)) {
      let value = token.slice(colon + 1);
      if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
      if (value === '') throw new UsageError(`query: ${JSON.stringify(token)} has a field but no value (write field:value)`);
      fields.push({ field: FIELD_ALIASES[name] ?? name, value, negate });
    } else {
      text.push({ kind: 'word', value: token, negate });
    }
  }
  return { text, fields };
}

const LABEL_TOKEN = /[A-Za-z0-9][A-Za-z0-9._/-]*/y;

/**
 * A kubectl label selector: `app=web,tier!=db`, `env in (prod,staging)`, `env notin (dev)`, `track`,
 * `!canary`. Throws a UsageError naming the part it could not read.
 */
export function parseSelector(input: string): LabelRequirement[] {
  const requirements: LabelRequirement[] = [];
  let i = 0;
  const fail = (what: string): never => {
    throw new UsageError(
      `--selector: ${what} at position ${i + 1} of ${JSON.stringify(input)} (use key=value, key!=value, key in (a,b), key notin (a,b), key or !key, comma-separated)`,
    );
  };
  const space = () => {
    while (i < input.length && input[i] === ' ') i++;
  };
  const token = (what: string): string => {
    LABEL_TOKEN.lastIndex = i;
    const match = LABEL_TOKEN.exec(input);
    if (match === null) return fail(`expected ${what}`);
    i += match[0].length;
    return match[0];
  };
  const value = (): string => {
    LABEL_TOKEN.lastIndex = i;
    const match = LABEL_TOKEN.exec(input);
    i += match?.[0].length ?? 0;
    return match?.[0] ?? '';
  };
  space();
  if (i === input.length) return requirements;
  for (;;) {
    space();
    if (input[i] === '!') {
      i++;
      space();
      requirements.push({ key: token('a label key after !'), op: '!exists' });
    } else {
      const key = token('a label key');
      space();
      if (input.startsWith('!=', i)) {
        i += 2;
        space();
        requirements.push({ key, op: '!=', values: [value()] });
      } else if (input[i] === '=') {
        i += input.startsWith('==', i) ? 2 : 1;
        space();
        requirements.push({ key, op: '=', values: [value()] });
      } else if (/^(in|notin)\s*\(/.test(input.slice(i))) {
        const op = input.startsWith('in', i) ? 'in' : 'notin';
        i = input.indexOf('(', i) + 1;
        const values: string[] = [];
        for (;;) {
          space();
          values.push(value());
          space();
          if (input[i] === ',') i++;
          else if (input[i] === ')') break;
          else fail('expected , or ) in the value list');
        }
        i++;
        requirements.push({ key, op, values });
      } else {
        requirements.push({ key, op: 'exists' });
      }
    }
    space();
    if (i === input.length) return requirements;
    if (input[i] !== ',') fail(`unexpected ${JSON.stringify(input[i])}`);
    i++;
  }
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `15m` → milliseconds. */
export function parseDuration(value: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/.exec(value.trim());
  if (!match) throw new UsageError(`${flag}: expected a duration like 30s, 15m, 2h, 7d (got ${JSON.stringify(value)})`);
  return Number(match[1]) * UNITS[match[2]];
}

/** RFC 3339 (sub-millisecond digits kept) or anything Date understands → microseconds since the epoch. */
export function parseTime(value: string, flag: string): number {
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value)) return timestampMicros(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`${flag}: not a date/time (got ${JSON.stringify(value)}; use RFC 3339, e.g. 2026-11-24T10:00:00Z)`);
  return ms * 1000;
}

export interface QueryFlags {
  since?: string;
  from?: string;
  to?: string;
  namespace?: string;
  pod?: string;
  container?: string;
  selector?: string;
  level?: string;
  stream?: string;
  node?: string;
  oldestFirst?: boolean;
  limit?: string;
}

export function buildQuery(text: string | undefined, flags: QueryFlags, now = Date.now()): LogQuery {
  const { text: terms, fields } = parseQueryText(text ?? '');
  const limit = flags.limit === undefined ? 100 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000)
    throw new UsageError(`--limit: a whole number from 1 to 100000 (got ${JSON.stringify(flags.limit)})`);
  if (flags.stream !== undefined && flags.stream !== 'stdout' && flags.stream !== 'stderr') {
    throw new UsageError(`--stream: stdout or stderr (got ${JSON.stringify(flags.stream)})`);
  }
  if (flags.pod !== undefined && /[[\]]/.test(flags.pod)) throw new UsageError(`--pod: a name or a glob with * and ? (got ${JSON.stringify(flags.pod)})`);
  for (const [flag, value] of [
    ['--namespace', flags.namespace],
    ['--pod', flags.pod],
    ['--container', flags.container],
    ['--level', flags.level],
    ['--node', flags.node],
  ] as const) {
    if (value !== undefined && value.trim() === '') throw new UsageError(`${flag}: empty value`);
  }
  if (flags.since !== undefined && flags.from !== undefined) throw new UsageError('--since and --from both set the start: give one');
  const query: LogQuery = {
    namespace: flags.namespace,
    pod: flags.pod,
    container: flags.container,
    level: flags.level?.toLowerCase(),
    stream: flags.stream,
    node: flags.node,
    labels: flags.selector ? parseSelector(flags.selector) : [],
    text: terms,
    fields,
    order: flags.oldestFirst ? 'oldest' : 'newest',
    limit,
  };
  if (flags.since !== undefined) query.fromMicros = (now - parseDuration(flags.since, '--since')) * 1000;
  if (flags.from !== undefined) query.fromMicros = parseTime(flags.from, '--from');
  if (flags.to !== undefined) query.toMicros = parseTime(flags.to, '--to');
  if (query.fromMicros !== undefined && query.toMicros !== undefined && query.fromMicros >= query.toMicros) {
    throw new UsageError(`--${flags.since !== undefined ? 'since' : 'from'} must be before --to`);
  }
  return query;
}
