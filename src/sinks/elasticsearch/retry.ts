/**
 * What to do with an answer, and when to try again.
 *
 * Items: 201 stored, 409 already stored; overload, server errors and cluster states an operator or time
 * fixes (blocks, missing index, privileges) are retried without limit — the files are the buffer; a
 * rejection of the document itself (400 mapping / parse errors, 413 too large) is final: dead letter.
 * Delays: exponential from `initialDelayMs`, equal jitter, capped; a server's Retry-After wins (capped).
 */

export interface RetryPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Delay before retry number `attempt` (1 = the first retry): half fixed, half random, so clients spread out. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The server's Retry-After when it gave one (at least the initial delay, at most the cap), else backoff. */
export function retryDelayMs(attempt: number, policy: RetryPolicy, retryAfter?: string | string[], random?: () => number): number {
  const hinted = parseRetryAfter(retryAfter);
  if (hinted !== undefined) return Math.min(Math.max(hinted, policy.initialDelayMs), policy.maxDelayMs);
  return backoffMs(attempt, policy, random);
}

export type ItemVerdict = 'stored' | 'duplicate' | 'retry' | 'reject';

/**
 * Error types that describe the cluster's state rather than the document: a read-only index (disk flood
 * stage), unassigned shards, an index that may not be auto-created yet. Dead-lettering would fail the
 * same way, so these wait like an outage.
 */
const CLUSTER_STATE_ERRORS = new Set([
  'cluster_block_exception',
  'unavailable_shards_exception',
  'index_not_found_exception',
  'no_shard_available_action_exception',
  'process_cluster_event_timeout_exception',
  'circuit_breaking_exception',
  'es_rejected_execution_exception',
  'security_exception',
]);

export function itemVerdict(status: number, errorType?: string): ItemVerdict {
  if (status === 200 || status === 201) return 'stored';
  if (status === 409) return 'duplicate';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  if (status === 401 || status === 403 || status === 404) return 'retry';
  if (errorType !== undefined && CLUSTER_STATE_ERRORS.has(errorType)) return 'retry';
  return 'reject';
}

export type RequestVerdict =
  /** read the per-item answers */
  | 'items'
  /** try the whole request again later (overload, server error, credentials, wrong path...) */
  | 'retry'
  /** the body as a whole was refused (too large, unparseable): halve it, or reject a single record */
  | 'split';

export function requestVerdict(status: number): RequestVerdict {
  if (status >= 200 && status < 300) return 'items';
  if (status === 400 || status === 413) return 'split';
  return 'retry';
}

export interface BulkItemResult {
  status: number;
  type?: string;
  reason?: string;
}

/** Only what the sink reads: statuses and errors (a tenth of the full answer's bytes). */
export const BULK_FILTER_PATH =
  'filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason,items.*.error.caused_by.type,items.*.error.caused_by.reason';

const ERRORS_FALSE = Buffer.from('"errors":false');

/** True when the answer says no item failed — decided from its first bytes, nothing decoded. */
export function bulkAllCreated(answer: Buffer): boolean {
  const at = answer.indexOf(ERRORS_FALSE);
  return at >= 0 && at < 128;
}

interface RawItem {
  status?: number;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } } | string;
}

/** Per-item results in request order; undefined when the answer is not a bulk answer at all. */
export function parseBulkItems(answer: Buffer): BulkItemResult[] | undefined {
  let parsed: { items?: Array<Record<string, RawItem>> };
  try {
    parsed = JSON.parse(answer.toString('utf8')) as typeof parsed;
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed.items)) return undefined;
  return parsed.items.map((entry) => {
    let item: RawItem | undefined;
    for (const key in entry) {
      item = entry[key];
      break;
    }
    const status = typeof item?.status === 'number' ? item.status : 500;
    const error = item?.error;
    if (error === undefined) return { status };
    if (typeof error === 'string') return { status, reason: error };
    const cause = error.caused_by;
    const reason =
      cause?.reason !== undefined && cause.reason !== error.reason
        ? `${error.reason ?? ''} (caused by ${cause.type ?? 'error'}: ${cause.reason})`
        : error.reason;
    return { status, type: error.type, reason };
  });
}
