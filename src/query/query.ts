/**
 * One query model for every backend, and the parsers for what users type:
 *   free text:   words  "a phrase"  field:value  -word  -"phrase"  -field:value
 *   selector:    app=web,tier!=db,track,!canary   (like kubectl -l)
 *   time:        --since 15m | 2h | 7d, --from/--to RFC 3339 (or anything Date understands)
 */
import { UsageError } from '../cli/errors.js';

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
  key: string;
  op: '=' | '!=' | 'exists' | '!exists';
  value?: string;
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
  doc: Record<string, any>;
  cursor: Cursor;
}

export interface QueryBackend {
  readonly description: string;
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
    if (colon > 0 && colon < token.length - 1 && /^[A-Za-z_@][\w.@/-]*$/.test(token.slice(0, colon))) {
      let value = token.slice(colon + 1);
      if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
      const name = token.slice(0, colon);
      fields.push({ field: FIELD_ALIASES[name] ?? name, value, negate });
    } else if (colon === token.length - 1 && colon > 0) {
      throw new UsageError(`query: ${JSON.stringify(token)} has a field but no value (write field:value)`);
    } else {
      text.push({ kind: 'word', value: token, negate });
    }
  }
  return { text, fields };
}

export function parseSelector(input: string): LabelRequirement[] {
  const requirements: LabelRequirement[] = [];
  for (const part of input.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    let match: RegExpExecArray | null;
    if ((match = /^([\w./-]+)\s*!=\s*([\w./-]*)$/.exec(part))) requirements.push({ key: match[1], op: '!=', value: match[2] });
    else if ((match = /^([\w./-]+)\s*==?\s*([\w./-]*)$/.exec(part))) requirements.push({ key: match[1], op: '=', value: match[2] });
    else if ((match = /^!([\w./-]+)$/.exec(part))) requirements.push({ key: match[1], op: '!exists' });
    else if ((match = /^([\w./-]+)$/.exec(part))) requirements.push({ key: match[1], op: 'exists' });
    else throw new UsageError(`--selector: cannot read ${JSON.stringify(part)} (use key=value, key!=value, key or !key, comma-separated)`);
  }
  return requirements;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `15m` → milliseconds. */
export function parseDuration(value: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/.exec(value.trim());
  if (!match) throw new UsageError(`${flag}: expected a duration like 30s, 15m, 2h, 7d (got ${JSON.stringify(value)})`);
  return Number(match[1]) * UNITS[match[2]];
}

export function parseTime(value: string, flag: string): number {
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
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new UsageError(`--limit: a whole number from 1 to 100000 (got ${JSON.stringify(flags.limit)})`);
  if (flags.stream !== undefined && flags.stream !== 'stdout' && flags.stream !== 'stderr') {
    throw new UsageError(`--stream: stdout or stderr (got ${JSON.stringify(flags.stream)})`);
  }
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
    throw new UsageError('--from/--since must be before --to');
  }
  return query;
}
