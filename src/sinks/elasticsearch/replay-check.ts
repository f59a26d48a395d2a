/**
 * Which of a batch's records are already stored somewhere behind the target, asked before the batch is sent.
 *
 * A `create` with a deterministic `_id` is a no-op (409) only in the index it lands in. Two cases send a
 * stored record's `_id` to another index:
 *  - a data stream rolled over between the first send and a replay: the replay lands in the new write index;
 *  - a daily index whose date comes from the read time (plain lines, unparsed lines, the logrus fallback):
 *    a replay read after UTC midnight carries a new timestamp and lands in the next day's index.
 * Replays come from two places, and only those batches are looked up: records read again after a restart
 * (the first bytes the sink receives, bounded by {@link ReplayCheckOptions.windowBytes}), and a batch sent
 * again after a request whose fate is unknown (timeout, reset, 5xx: it may have been stored) when the
 * target is a data stream (daily indices resend the very same action line, so a 409 is enough there).
 *
 * The lookup: refresh the target (a search sees only refreshed documents; an `_id` stored a moment ago
 * must count), then an `ids` query over every index behind it (the data stream's backing indices, or
 * `<index>-*`), returning only `_id`s. Found records are acknowledged as duplicates; the rest are sent.
 */
import { failureReason } from './metrics.js';
import type { HttpResult, Transport } from './transport.js';

/** ids per search request: a terms lookup per shard, kept well under `index.max_terms_count` (65536). */
const IDS_PER_SEARCH = 10_000;
const LENIENT = 'ignore_unavailable=true&allow_no_indices=true';
const JSON_HEADERS = { 'content-type': 'application/json' };

export type LookupResult =
  | { kind: 'found'; ids: Set<string> }
  /** the cluster did not answer usably: try again later (`failure`: the metrics' reason label, as for a bulk) */
  | { kind: 'retry'; reason: string; failure: string; host: string }
  /** not allowed to look (403 on search): sending anyway is all that is left */
  | { kind: 'forbidden'; reason: string };

/** The `_id` of an action line `{"create":{"_index":"…","_id":"…"}}`. */
export function actionId(action: string): string | undefined {
  try {
    const parsed = JSON.parse(action) as { create?: { _id?: unknown } };
    return typeof parsed.create?._id === 'string' ? parsed.create._id : undefined;
  } catch {
    return undefined;
  }
}

/** The indices a record's `_id` may already be in: the data stream (all its backing indices), or `<index>-*`. */
export function lookupTarget(config: { dataStream?: string; index: string }): string {
  return config.dataStream ?? `${config.index}-*`;
}

export async function lookupStored(transport: Transport, target: string, ids: string[]): Promise<LookupResult> {
  const path = `/${encodeURIComponent(target).replaceAll('%2A', '*')}`;
  const retry = (what: string, result: HttpResult, detail = ''): LookupResult => ({
    kind: 'retry',
    reason: `${what} ${target}: ${result.kind === 'error' ? result.error : `HTTP ${result.status}${detail}`}`,
    failure: failureReason(result),
    host: result.host,
  });
  const refreshed = await transport.request('POST', `${path}/_refresh?${LENIENT}`);
  if (refreshed.kind === 'error') return retry('refresh', refreshed);
  // 403: a key allowed to write and read but not to refresh; the search still sees what was refreshed by itself.
  if (refreshed.status >= 500 || refreshed.status === 429) return retry('refresh', refreshed);
  const found = new Set<string>();
  for (let from = 0; from < ids.length; from += IDS_PER_SEARCH) {
    const chunk = ids.slice(from, from + IDS_PER_SEARCH);
    const body = JSON.stringify({ size: chunk.length, _source: false, track_total_hits: false, query: { ids: { values: chunk } } });
    const result = await transport.request('POST', `${path}/_search?${LENIENT}&filter_path=hits.hits._id`, body, JSON_HEADERS);
    if (result.kind === 'error') return retry('search', result);
    if (result.status === 401 || result.status === 403) return { kind: 'forbidden', reason: `search ${target}: HTTP ${result.status}` };
    if (result.status === 404) continue;
    if (result.status !== 200) return retry('search', result, ` ${result.body.slice(0, 200)}`);
    let hits: Array<{ _id?: unknown }>;
    try {
      hits = (JSON.parse(result.body) as { hits?: { hits?: Array<{ _id?: unknown }> } }).hits?.hits ?? [];
    } catch {
      return { kind: 'retry', reason: `search ${target}: unreadable answer ${result.body.slice(0, 200)}`, failure: 'unreadable_answer', host: result.host };
    }
    for (const hit of hits) if (typeof hit._id === 'string') found.add(hit._id);
  }
  return { kind: 'found', ids: found };
}
