/**
 * Elasticsearch for test files: the run's shared cluster, or a private one a test can stop and start
 * (same port, same data) to play an outage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { loadRuntime } from './elasticsearch-harness.js';

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
  /** kill the JVM, keep the data */
  stop(): Promise<void>;
  /** start again on the same port with the same data; resolves when healthy */
  start(): Promise<void>;
  /** stop and delete the data */
  close(): Promise<void>;
}

export async function startPrivateElasticsearch(options: { dataDir?: string } = {}): Promise<PrivateElasticsearch> {
  const runtime = await loadRuntime();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'logferry-es-private-'));
  const port = await runtime.freePort();
  const clusterName = `logferry-private-${port}`;
  let current: { stop(): Promise<void> } | undefined = await runtime.startElasticsearch({ port, dataDir, clusterName });
  const handle: PrivateElasticsearch = {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    async stop() {
      await current?.stop();
      current = undefined;
    },
    async start() {
      if (!current) current = await runtime.startElasticsearch({ port, dataDir, clusterName });
    },
    async close() {
      await handle.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

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

export async function refresh(url: string, index: string): Promise<void> {
  await esRequest(url, 'POST', `/${index}/_refresh?ignore_unavailable=true&allow_no_indices=true`);
}

export async function countDocs(url: string, index: string, query?: unknown): Promise<number> {
  await refresh(url, index);
  const result = await esRequest(url, 'POST', `/${index}/_count?ignore_unavailable=true&allow_no_indices=true`, query ? { query } : undefined);
  return result.count ?? 0;
}

export async function deleteIndices(url: string, pattern: string): Promise<void> {
  await esRequest(url, 'DELETE', `/${pattern}?ignore_unavailable=true&allow_no_indices=true`);
}
