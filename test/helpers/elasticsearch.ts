/**
 * Elasticsearch for test files: the run's shared cluster, or a private one a test can stop and start
 * (same port, same data) to play an outage; and the few requests tests make to check what was stored.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { loadRuntime, type RunningElasticsearch } from './elasticsearch-harness.js';

/** The shared cluster's URL, or undefined after marking the test skipped (no Java/Maven outside CI). */
export function sharedElasticsearch(t: TestContext): string | undefined {
  const url = process.env.LOGFERRY_TEST_ES_URL;
  if (url) return url;
  t.skip(process.env.LOGFERRY_TEST_ES_SKIP ?? 'no Elasticsearch: run the tests with `npm test`');
  return undefined;
}

export interface PrivateElasticsearch {
  url: string;
  port: number;
  dataDir: string;
  /** the node's log (appended to across restarts) */
  logFile: string;
  /** stop the JVM, keep the data */
  stop(): Promise<void>;
  /** start again on the same port with the same data; resolves when healthy (no-op while running) */
  start(): Promise<void>;
  /** stop and delete the data (unless the data dir was given by the caller) */
  close(): Promise<void>;
}

/**
 * A node of the test's own, for outages: its port and data dir stay the same across stop()/start(), so a
 * client pointed at `url` sees connection refused while it is stopped and finds every acknowledged
 * document again after start() (Elasticsearch fsyncs its translog before answering a write).
 */
export async function startPrivateElasticsearch(options: { dataDir?: string } = {}): Promise<PrivateElasticsearch> {
  const runtime = await loadRuntime();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'logferry-es-private-'));
  const port = await runtime.freePort();
  const clusterName = `logferry-private-${port}`;
  let current: RunningElasticsearch | undefined = await runtime.startElasticsearch({ port, dataDir, clusterName });
  const handle: PrivateElasticsearch = {
    url: current.url,
    port,
    dataDir,
    logFile: current.logFile,
    async stop() {
      const running = current;
      current = undefined;
      await running?.stop();
    },
    async start() {
      if (!current) current = await runtime.startElasticsearch({ port, dataDir, clusterName });
    },
    async close() {
      await handle.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

/**
 * One request, the answer's JSON. A string body is sent as NDJSON (for _bulk); 404 is returned, not thrown
 * (tests ask about things that may not exist); other errors throw with the answer's start.
 */
export async function esRequest(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const ndjson = typeof body === 'string';
  const response = await fetch(url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': ndjson ? 'application/x-ndjson' : 'application/json' },
    body: body === undefined ? undefined : ndjson ? body : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok && response.status !== 404) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : {};
}

const LENIENT = 'ignore_unavailable=true&allow_no_indices=true';

/**
 * A search, retried while its index's shards are still starting: an index the agent creates between the
 * refresh's health check and the search answers 503 "all shards failed" for a moment.
 */
export async function searchWhenReady(url: string, path: string, body: unknown): Promise<any> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await esRequest(url, 'POST', path, body);
    } catch (error) {
      if (Date.now() > deadline || !/: 503 .*(search_phase_execution_exception|no_shard_available)/.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * Make what was written searchable: refresh, then wait until the matching indices' primaries are started.
 * An index the agent created a moment ago answers a search with 503 "all shards failed" until then.
 * Each name gets a trailing `*` so a name that does not exist yet does not make the health call wait.
 */
export async function refresh(url: string, index: string): Promise<void> {
  await esRequest(url, 'POST', `/${index}/_refresh?${LENIENT}`);
  const patterns = index
    .split(',')
    .map((name) => (name.endsWith('*') ? name : `${name}*`))
    .join(',');
  await esRequest(url, 'GET', `/_cluster/health/${patterns}?wait_for_status=yellow&timeout=30s`).catch(() => undefined);
}

/** Documents in the indices matching `index` (after a refresh), optionally only those matching `query`. */
export async function countDocs(url: string, index: string, query?: unknown): Promise<number> {
  await refresh(url, index);
  const result = await esRequest(url, 'POST', `/${index}/_count?${LENIENT}`, query ? { query } : undefined);
  return result.count ?? 0;
}

export interface StoredDoc {
  _id: string;
  _index: string;
  _source: Record<string, any>;
}

/**
 * Every document in the indices matching `index` (after a refresh), optionally filtered by `query`, in no
 * particular order. A scroll: it reads hundreds of thousands of documents without a unique sort key.
 */
export async function searchAll(url: string, index: string, query?: unknown): Promise<StoredDoc[]> {
  const docs: StoredDoc[] = [];
  await scrollDocs(url, index, { query }, (page) => {
    docs.push(...page);
  });
  return docs;
}

/**
 * Like {@link searchAll}, one page at a time, so a caller checking a soak's documents never holds them all;
 * `source` limits the fields returned (`_source` includes).
 */
export async function scrollDocs(
  url: string,
  index: string,
  options: { query?: unknown; source?: string[]; pageSize?: number },
  onPage: (docs: StoredDoc[]) => void,
): Promise<number> {
  await refresh(url, index);
  let total = 0;
  let page = await searchWhenReady(url, `/${index}/_search?scroll=1m&${LENIENT}`, {
    size: options.pageSize ?? 5000,
    sort: ['_doc'],
    ...(options.query ? { query: options.query } : {}),
    ...(options.source ? { _source: options.source } : {}),
  });
  try {
    for (;;) {
      const hits = (page.hits?.hits ?? []) as StoredDoc[];
      if (hits.length > 0) onPage(hits.map((hit) => ({ _id: hit._id, _index: hit._index, _source: hit._source ?? {} })));
      total += hits.length;
      if (hits.length === 0 || !page._scroll_id) break;
      page = await esRequest(url, 'POST', '/_search/scroll', { scroll: '1m', scroll_id: page._scroll_id });
    }
  } finally {
    if (page._scroll_id) await esRequest(url, 'DELETE', '/_search/scroll', { scroll_id: page._scroll_id }).catch(() => undefined);
  }
  return total;
}

/** Delete the indices matching `pattern` (wildcards allowed; none matching is fine). */
export async function deleteIndices(url: string, pattern: string): Promise<void> {
  await esRequest(url, 'DELETE', `/${pattern}?${LENIENT}`);
}
