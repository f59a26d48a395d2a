/**
 * One query model for every backend, and the parsers for what users type:
 *   free text:   words  "a phrase"  pre*  field:value  -word  NOT field:value  a OR b  ( )   (query-text.ts)
 *   selector:    app=web,tier!=db,track,!canary   (like kubectl -l)
 *   time:        --since 15m | 2h | 7d, --from/--to RFC 3339 / ISO 8601
 */
import { UsageError } from '../cli/errors.js';
import { normalizeFieldValue, parseQueryText, type FieldTerm, type QueryNode, type TextTerm } from './query-text.js';
import type { JsonObject } from '../core/json.js';

export { FIELD_ALIASES, parseQueryText, type FieldTerm, type QueryNode, type TextTerm } from './query-text.js';

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
  /** further conjuncts: OR and negated groups, as trees (see query-text.ts) */
  groups?: QueryNode[];
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
  /** How many records match (ignoring limit and cursor), counted up to `cap`: `exact` false beyond it. */
  count(query: LogQuery, cap: number): Promise<{ count: number; exact: boolean }>;
  close(): Promise<void>;
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

const TIME = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?)?(Z|z|[+-]\d\d:?\d\d)?$/;

/**
 * RFC 3339 / ISO 8601 → microseconds since the epoch: `2026-11-24T10:00:00Z` (sub-millisecond digits kept),
 * an offset (`+01:00`), a space for the `T`, a date alone (midnight UTC) or a time without zone (local
 * time, as Date reads it). Strict: Date.parse would take `5` as May 2001 and `2026-02-30` as March 2nd, and a
 * search would then quietly read the wrong time range.
 */
export function parseTime(value: string, flag: string): number {
  const bad = (): never => {
    throw new UsageError(`${flag}: not a date/time (got ${JSON.stringify(value)}; use RFC 3339, e.g. 2026-11-24T10:00:00Z)`);
  };
  const match = TIME.exec(value.trim());
  if (match === null) return bad();
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0));
  const fraction = match[7] ?? '';
  const zone = match[8];
  // Day 0 of the next month is the last day of this one (leap years included).
  const lastDay = month >= 1 && month <= 12 ? new Date(Date.UTC(year, month, 0)).getUTCDate() : 0;
  if (day < 1 || day > lastDay || hour > 23 || minute > 59 || second > 59) return bad();
  const micros = Number(fraction.padEnd(6, '0').slice(0, 6));
  if (zone === undefined && match[4] !== undefined) return new Date(year, month - 1, day, hour, minute, second).getTime() * 1000 + micros;
  let offsetMinutes = 0;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '');
    const hours = Number(digits.slice(1, 3));
    const minutes = Number(digits.slice(3, 5));
    if (hours > 23 || minutes > 59) return bad();
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  return (Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000) * 1000 + micros;
}

/** The latest record time both backends can address: the local store's rowids (µs << 11) end in 2112. */
export const MAX_QUERY_MICROS = 2 ** 52 - 1;

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
  const { text: terms, fields, groups } = parseQueryText(text ?? '');
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
    namespace: flags.namespace === undefined ? undefined : normalizeFieldValue('kubernetes.namespace', flags.namespace),
    pod: flags.pod === undefined ? undefined : normalizeFieldValue('kubernetes.pod.name', flags.pod),
    container: flags.container === undefined ? undefined : normalizeFieldValue('kubernetes.container.name', flags.container),
    level: flags.level === undefined ? undefined : normalizeFieldValue('log.level', flags.level),
    stream: flags.stream,
    node: flags.node === undefined ? undefined : normalizeFieldValue('kubernetes.node.name', flags.node),
    labels: flags.selector ? parseSelector(flags.selector) : [],
    text: terms,
    fields,
    ...(groups !== undefined ? { groups } : {}),
    order: flags.oldestFirst ? 'oldest' : 'newest',
    limit,
  };
  if (flags.since !== undefined) query.fromMicros = (now - parseDuration(flags.since, '--since')) * 1000;
  if (flags.from !== undefined) query.fromMicros = parseTime(flags.from, '--from');
  if (flags.to !== undefined) query.toMicros = parseTime(flags.to, '--to');
  if (query.fromMicros !== undefined && query.toMicros !== undefined && query.fromMicros >= query.toMicros) {
    throw new UsageError(`--${flags.since !== undefined ? 'since' : 'from'} must be before --to`);
  }
  // Outside what records can have: no bound (a --since longer than the epoch is everything), instead of
  // an Elasticsearch 400 for a date_nanos before 1970 or a local rowid that overflows.
  if (query.fromMicros !== undefined && query.fromMicros <= 0) delete query.fromMicros;
  if (query.fromMicros !== undefined && query.fromMicros > MAX_QUERY_MICROS) query.fromMicros = MAX_QUERY_MICROS;
  if (query.toMicros !== undefined && query.toMicros < 0) query.toMicros = 0;
  if (query.toMicros !== undefined && query.toMicros > MAX_QUERY_MICROS) delete query.toMicros;
  return query;
}
