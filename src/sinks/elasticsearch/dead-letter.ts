/**
 * Dead letters: a document Elasticsearch rejected for what it is (a mapping conflict, a parse error, too
 * large) goes to `<deadLetterIndex>-YYYY.MM.DD` as a string, with the reason, so nothing is dropped
 * silently and the fix (a mapping, a parser) can be checked against the real input.
 *
 * The dead letter keeps the record's `_id` and its day (the record's own UTC date, like its target
 * index): a replay finds it already there (409) instead of writing it twice, and the dead letters of a
 * day age out with that day's logs.
 */
import { utcDay } from '../../event/document.js';
import type { BulkItemResult } from './retry.js';
import type { JsonObject } from '../../core/json.js';

/** Longer documents are cut (and flagged): a dead letter must not be rejected for its size in turn. */
export const MAX_DEAD_DOCUMENT_CHARS = 1024 * 1024;

/** `400 mapper_parsing_exception: failed to parse field [json.user] ... (index logstash-2026.11.24)` */
export function rejectionSummary(rejection: BulkItemResult, index: string): string {
  const reason = rejection.reason !== undefined ? `: ${rejection.reason}` : '';
  return `${rejection.status} ${rejection.type ?? 'rejected'}${reason} (index ${index})`.slice(0, 8000);
}

/** The `_index` of an action line built by the sink. */
export function actionIndex(action: string): string {
  const at = action.indexOf('"_index":"');
  if (at < 0) return '';
  const start = at + 10;
  return action.slice(start, action.indexOf('"', start));
}

/** What a dead letter says about its record, read back from the refused document and its action line. */
export interface RecordInfo {
  id: string;
  /** the record's own timestamp, as written (it may be what was refused) */
  timestamp: string | undefined;
  path: string | undefined;
  offset: number | undefined;
  namespace: string | undefined;
  pod: string | undefined;
  container: string | undefined;
  host: string | undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function recordInfo(action: string, document: string): RecordInfo {
  let id = '';
  try {
    const op = JSON.parse(action) as Record<string, { _id?: unknown }>;
    for (const key in op) id = str(op[key]?._id) ?? '';
  } catch {
    id = '';
  }
  let doc: JsonObject = {};
  try {
    const parsed: unknown = JSON.parse(document);
    if (parsed !== null && typeof parsed === 'object') doc = parsed;
  } catch {
    // not JSON (a bug upstream): the dead letter still carries it as a string
  }
  return {
    id,
    timestamp: str(doc['@timestamp']),
    path: str(doc.log?.file?.path),
    offset: typeof doc.log?.offset === 'number' ? doc.log.offset : undefined,
    namespace: str(doc.kubernetes?.namespace),
    pod: str(doc.kubernetes?.pod?.name),
    container: str(doc.kubernetes?.container?.name),
    host: str(doc.host?.name),
  };
}

export interface DeadLetterLine {
  action: string;
  document: string;
}

/**
 * The bulk line that stores a refused record. `document` is the JSON that was refused; `now` the time of
 * the refusal (`@timestamp` of the dead letter: the record's own timestamp may be what was wrong).
 */
export function deadLetterLine(
  deadLetterIndex: string,
  record: RecordInfo,
  document: string,
  targetIndex: string,
  rejection: BulkItemResult,
  now: string,
  needsType: boolean,
): DeadLetterLine {
  const index = `${deadLetterIndex}-${utcDay(record.timestamp ?? now)}`;
  const type = needsType ? ',"_type":"_doc"' : '';
  const truncated = document.length > MAX_DEAD_DOCUMENT_CHARS;
  const letter: Record<string, unknown> = {
    '@timestamp': now,
    reason: rejectionSummary(rejection, targetIndex),
    error: { status: rejection.status, type: rejection.type, reason: rejection.reason },
    index: targetIndex,
    id: record.id,
    record_timestamp: record.timestamp,
    document: truncated ? document.slice(0, MAX_DEAD_DOCUMENT_CHARS) : document,
    log: { file: { path: record.path }, offset: record.offset },
  };
  if (truncated) letter.document_truncated = true;
  if (record.namespace !== undefined || record.pod !== undefined || record.container !== undefined) {
    letter.kubernetes = { namespace: record.namespace, pod: { name: record.pod }, container: { name: record.container } };
  }
  if (record.host !== undefined) letter.host = { name: record.host };
  return {
    action: `{"create":{"_index":"${index}"${type},"_id":${JSON.stringify(record.id)}}}\n`,
    document: JSON.stringify(letter),
  };
}

/** For the log line when a dead letter is refused in turn: which record it was. */
export function refusedLetterContext(action: string, letter: string): { id: string; file: string | undefined; offset: number | undefined } {
  let original = '{}';
  try {
    original = (JSON.parse(letter) as { document?: string }).document ?? '{}';
  } catch {
    // a dead letter is always JSON (built above); the log line just has less to say
  }
  const info = recordInfo('{}', original);
  return { id: recordInfo(action, '{}').id, file: info.path, offset: info.offset };
}
