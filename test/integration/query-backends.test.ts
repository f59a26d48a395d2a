/**
 * Issue 8: the same data in the local store and in the real Elasticsearch; every query must return the
 * same records from both.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveElasticsearchConfig } from '../../src/sinks/elasticsearch/config.js';
import { ElasticsearchSink } from '../../src/sinks/elasticsearch/sink.js';
import { LocalStoreSink } from '../../src/store/sink.js';
import { ElasticsearchBackend } from '../../src/query/elasticsearch.js';
import { LocalStoreBackend } from '../../src/query/local.js';
import { buildQuery, type QueryFlags } from '../../src/query/query.js';
import { deleteIndices, refresh, sharedElasticsearch } from '../helpers/elasticsearch.js';
import { AckCounter, makeBatch } from '../helpers/records.js';
import { queryFixture } from '../helpers/query-fixture.js';

const CASES: Array<[string, string | undefined, QueryFlags]> = [
  ['everything', undefined, {}],
  ['namespace', undefined, { namespace: 'billing' }],
  ['pod glob', undefined, { pod: 'api-*' }],
  ['container', undefined, { container: 'postgres' }],
  ['level', undefined, { level: 'error' }],
  ['stream', undefined, { stream: 'stderr' }],
  ['node', undefined, { node: 'node-other' }],
  ['label equals', undefined, { selector: 'app=web' }],
  ['dotted label key', undefined, { selector: 'app.kubernetes.io/name=web' }],
  ['label not equals', undefined, { selector: 'tier!=frontend' }],
  ['label exists', undefined, { selector: 'tier' }],
  ['label absent', undefined, { selector: '!tier' }],
  ['time range', undefined, { from: '2026-11-24T10:00:03Z', to: '2026-11-24T10:00:08Z' }],
  ['word', 'payment', {}],
  ['two words', 'connection reset', {}],
  ['phrase', '"card expired"', {}],
  ['exclude word', 'payment -declined', {}],
  ['only exclusion', '-connection', {}],
  ['field:value', 'kubernetes.namespace:shop', {}],
  ['alias field', 'level:warning', {}],
  ['json field', 'json.user.id:u2', {}],
  ['negated field', '-namespace:billing', {}],
  ['text with filters', 'connection', { namespace: 'billing' }],
  ['oldest first', undefined, { oldestFirst: true, limit: '3' }],
  ['newest first, limited', undefined, { limit: '2' }],
];

describe('query backends give the same answers', () => {
  let dataDir: string;
  let local: LocalStoreBackend;
  let es: ElasticsearchBackend | undefined;
  const index = `qtest${process.pid}`;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'logferry-q-'));
    const counter = new AckCounter();
    const store = new LocalStoreSink({ dataDir, retentionDays: 100_000, maxBytes: 1e12 });
    await store.start();
    for (const f of queryFixture('q')) store.write(makeBatch(counter, f.file, f.records));
    await store.shutdown();
    local = new LocalStoreBackend(dataDir);
    const url = process.env.LOGFERRY_TEST_ES_URL;
    if (url) {
      const config = resolveElasticsearchConfig({ hosts: [url], index } as never, {})!;
      const sink = new ElasticsearchSink(config);
      await sink.start();
      for (const f of queryFixture('q')) sink.write(makeBatch(counter, f.file, f.records));
      await sink.shutdown();
      await refresh(url, `${index}-*`);
      es = new ElasticsearchBackend(config);
    }
  });
  after(async () => {
    await local?.close();
    await es?.close();
    if (process.env.LOGFERRY_TEST_ES_URL) await deleteIndices(process.env.LOGFERRY_TEST_ES_URL, `${index}-*`);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('local store: every filter and text syntax', async () => {
    const messages = async (text: string | undefined, flags: QueryFlags) => (await local.search(buildQuery(text, flags))).map((r) => r.doc.message);
    assert.equal((await messages(undefined, {})).length, 8);
    assert.deepEqual(await messages(undefined, { namespace: 'shop', oldestFirst: true }), ['GET /healthz 200 in 3ms', 'GET /cart 200 in 12ms', 'upstream connection reset by peer']);
    assert.deepEqual(await messages('"card expired"', {}), ['payment declined order=18 card expired']);
    assert.deepEqual(await messages('payment -declined', {}), ['payment accepted order=17']);
    assert.deepEqual(await messages(undefined, { selector: 'app.kubernetes.io/name=web', level: 'error' }), ['upstream connection reset by peer']);
    assert.deepEqual(await messages('json.user.id:u2', {}), ['payment declined order=18 card expired']);
    assert.deepEqual(await messages(undefined, { limit: '2' }), ['connection pool resized to 20', 'upstream connection reset by peer']);
  });

  it('Elasticsearch returns the same records as the local store for every query', async (t) => {
    const backend = es;
    if (!sharedElasticsearch(t) || !backend) return;
    for (const [name, text, flags] of CASES) {
      const query = buildQuery(text, flags);
      const fromLocal: string[] = (await local.search(query)).map((r) => r.id);
      const fromEs: string[] = (await backend.search(query)).map((r) => r.id);
      assert.deepEqual(fromEs, fromLocal, name);
      assert.ok(name === 'only exclusion' || name === 'negated field' || fromLocal.length > 0 || name.includes('absent'), `${name} found nothing`);
    }
  });

  it('pagination with a cursor walks every record once on both backends', async (t) => {
    const walk = async (backend: LocalStoreBackend | ElasticsearchBackend) => {
      const ids: string[] = [];
      let query = buildQuery(undefined, { limit: '3' });
      for (;;) {
        const page = await backend.search(query);
        ids.push(...page.map((r) => r.id));
        if (page.length < 3) break;
        query = { ...query, after: page[page.length - 1].cursor };
      }
      return ids;
    };
    const localIds = await walk(local);
    assert.equal(new Set(localIds).size, 8);
    if (!sharedElasticsearch(t) || !es) return;
    assert.deepEqual(await walk(es), localIds);
  });
});
