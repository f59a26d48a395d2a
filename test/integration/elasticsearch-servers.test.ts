/**
 * Issue 15 (first part): every test server kind of scripts/es-runtime.mjs — Elasticsearch 7.10, 8.19, 9.5,
 * OpenSearch 2.19, 3.9 — starts from its Maven Central jars and takes logferry's sink through its real code
 * path: `GET /` detection, the composable template installed (and applied: date_nanos, the message
 * analyzer), N records stored and read back, the same records again adding nothing (409 → duplicates).
 * Servers with data streams (all but 7.10 OSS) do it twice: daily indices and a data stream.
 *
 * Each kind other than the run's shared server is started here, one at a time, on its own port; its start
 * time and RSS go to the test's diagnostics. LOGFERRY_TEST_ES_SMOKE=es-8.19,opensearch-2.19 limits the kinds
 * (default: all). Without Java/Maven outside CI the tests skip like the other integration tests.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { MESSAGE_ANALYZER } from '../../src/core/message-tokens.js';
import type { ElasticsearchFileInput } from '../../src/sinks/elasticsearch/config.js';
import { deleteIndices, esRequest, searchAll } from '../helpers/elasticsearch.js';
import { loadRuntime, type ElasticsearchRuntime, type RunningElasticsearch, type TestServerName } from '../helpers/elasticsearch-harness.js';
import { fastSinkConfig, sinkFor } from '../helpers/es-sink.js';
import { AckTracker, makeRecords } from '../helpers/records.js';

const runtime: ElasticsearchRuntime = await loadRuntime();
// The secured servers (https, users) have their own tests: elasticsearch-secured-*.test.ts.
const ALL = (Object.keys(runtime.SERVERS) as TestServerName[]).filter((name) => runtime.SERVERS[name].security === undefined);
const chosen = (process.env.LOGFERRY_TEST_ES_SMOKE ?? '')
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean)
  .map((name) => runtime.describeServer(name).name);
const servers = chosen.length > 0 ? ALL.filter((name) => chosen.includes(name)) : ALL;
const N = 2000;

/** Resident memory of a process in MB (Linux), or undefined. */
function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

interface Target {
  url: string;
  name: TestServerName;
  version: string;
  product: string;
  /** the run's shared server (clean up after the test), not a private one (deleted with its node) */
  shared: boolean;
}

/**
 * Start the server for the test (or use the run's shared one when it is that kind); undefined after
 * marking the test skipped when there is no Java/Maven outside CI.
 */
async function serverFor(t: TestContext, name: TestServerName): Promise<Target | undefined> {
  const info = runtime.describeServer(name);
  const shared = process.env.LOGFERRY_TEST_ES_URL;
  if (shared && process.env.LOGFERRY_TEST_ES_SERVER === name) {
    t.diagnostic(`${info.product} ${info.version}: the run's shared server at ${shared}`);
    return { url: shared, name, version: info.version, product: info.product, shared: true };
  }
  if (!shared && process.env.LOGFERRY_TEST_ES_SKIP) {
    t.skip(process.env.LOGFERRY_TEST_ES_SKIP);
    return undefined;
  }
  const dataDir = mkdtempSync(join(tmpdir(), `logferry-${name}-`));
  let es: RunningElasticsearch;
  const started = Date.now();
  try {
    es = await runtime.startElasticsearch({ port: await runtime.freePort(), dataDir, server: name });
  } catch (error) {
    if (error instanceof runtime.ElasticsearchMissing && process.env.CI !== 'true') {
      rmSync(dataDir, { recursive: true, force: true });
      t.skip(`${info.product} ${info.version}: ${error.message.split('\n')[0]}`);
      return undefined;
    }
    throw error;
  }
  const seconds = (Date.now() - started) / 1000;
  t.after(async () => {
    // Measured after the writes: what the node holds once it has indexed something.
    t.diagnostic(`${es.product} ${es.version}: RSS after the smoke test ${rssMb(es.child.pid) ?? '?'} MB`);
    await es.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  t.diagnostic(`${es.product} ${es.version}: up in ${seconds.toFixed(1)} s (prepared jars), RSS at start ${rssMb(es.child.pid) ?? '?'} MB`);
  return { url: es.url, name, version: es.version, product: es.product, shared: false };
}

/** Write N records through the sink, read them back, write them again: nothing new. */
async function roundTrip(t: TestContext, target: Target, extra: Partial<ElasticsearchFileInput>, pattern: string, templateName: string): Promise<void> {
  const { url } = target;
  const errors: string[] = [];
  const config = fastSinkConfig([url], { bulkMaxRecords: 500, ...extra }, 2.5);
  const sink = sinkFor(t, config, errors, 1000);
  await sink.start();
  const opensearch = target.product === 'OpenSearch';
  assert.equal(sink.serverInfo?.distribution, opensearch ? 'opensearch' : 'elasticsearch');
  assert.equal(sink.serverInfo?.version, target.version);
  assert.equal(sink.serverInfo?.composableTemplates, true);

  const tracker = new AckTracker();
  sink.write(makeRecords(N, { tracker }));
  await sink.flush();
  assert.deepEqual(sink.stats(), { stored: N, duplicates: 0, deadLettered: 0, failed: 0, retries: 0 });
  const report = tracker.report();
  assert.deepEqual({ once: report.once, never: report.never, twice: report.twice }, { once: N, never: [], twice: [] });
  assert.deepEqual(errors, [], 'no startup note (a refused template would be one)');

  // The composable template is installed and applied to what was created.
  const template = await esRequest(url, 'GET', `/_index_template/${templateName}`);
  assert.equal(template.index_templates?.[0]?.name, templateName);
  const mappings = await esRequest(url, 'GET', `/${pattern}/_mapping`);
  const indices = Object.keys(mappings);
  assert.ok(indices.length > 0, `an index behind ${pattern}`);
  for (const index of indices) {
    const properties = mappings[index].mappings.properties;
    assert.equal(properties['@timestamp'].type, 'date_nanos', index);
    assert.equal(properties.message.analyzer, MESSAGE_ANALYZER, index);
    assert.equal(properties.kubernetes.properties.namespace.type, 'keyword', index);
  }

  const docs = await searchAll(url, pattern);
  assert.equal(docs.length, N);
  const expected = makeRecords(N, { tracker: new AckTracker() });
  const byId = new Map(docs.map((doc) => [doc._id, doc]));
  for (const record of [expected[0], expected[N - 1]]) {
    const doc = byId.get(record.id);
    assert.ok(doc, record.id);
    assert.equal(doc._source['@timestamp'], record.timestamp, 'nanoseconds kept');
    assert.equal(doc._source.message, record.message);
  }
  assert.equal(new Set(docs.map((doc) => doc._id)).size, N);

  // The same records again, from a new sink (a restart's replay): each one a 409, acknowledged as a duplicate.
  const again = sinkFor(t, config, errors, 1000);
  await again.start();
  const replay = new AckTracker();
  again.write(makeRecords(N, { tracker: replay }));
  await again.flush();
  assert.deepEqual(again.stats(), { stored: 0, duplicates: N, deadLettered: 0, failed: 0, retries: 0 });
  assert.equal(replay.report().once, N);
  assert.equal((await searchAll(url, pattern)).length, N);
}

describe('test servers: each kind starts from Maven Central jars and takes the sink through its real path', () => {
  for (const name of servers) {
    const info = runtime.describeServer(name);
    it(`${info.product} ${info.version} (${name})`, { timeout: 240_000 }, async (t) => {
      const target = await serverFor(t, name);
      if (!target) return;
      const root = await esRequest(target.url, 'GET', '/');
      assert.equal(root.version.number, info.version);
      if (info.product === 'OpenSearch') assert.equal(root.version.distribution, 'opensearch');
      else assert.equal(root.tagline, 'You Know, for Search');

      const tag = `${process.pid}${name.replace(/[^a-z0-9]/g, '')}`;
      const index = `smoke${tag}`;
      if (target.shared) t.after(() => deleteIndices(target.url, `${index}-*`));
      await t.test('daily indices', async (t2) => {
        await roundTrip(t2, target, { index }, `${index}-*`, `logferry-${index}`);
      });

      if (name === 'es-7.10') return; // the OSS build has no data streams
      // Named like Elastic's integrations name theirs; its template sits above the built-in logs-*-*.
      const dataStream = `logs-smoke.${tag}-default`;
      // Elasticsearch from jars has no DELETE _data_stream (its module is not published): a leftover stays.
      if (target.shared) t.after(() => esRequest(target.url, 'DELETE', `/_data_stream/${dataStream}`).catch(() => undefined));
      await t.test('data stream', async (t2) => {
        await roundTrip(t2, target, { index, dataStream }, dataStream, `logferry-${dataStream}`);
        const stream = await esRequest(target.url, 'GET', `/_data_stream/${dataStream}`);
        assert.equal(stream.data_streams?.[0]?.name, dataStream);
      });
    });
  }
});
