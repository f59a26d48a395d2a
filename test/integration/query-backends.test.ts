/**
 * Issue 8: the same data in the local store and in the real Elasticsearch; every query must return the
 * same records from both — through logferry's own template (keyword fields) and through an index
 * Elasticsearch mapped dynamically, as fluentd's indices are (text fields with `.keyword`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DocumentEncoder, utcDay } from '../../src/event/document.js';
import { resolveElasticsearchConfig } from '../../src/sinks/elasticsearch/config.js';
import { ElasticsearchSink } from '../../src/sinks/elasticsearch/sink.js';
import { LocalStoreSink } from '../../src/store/sink.js';
import { BackendError, ElasticsearchBackend } from '../../src/query/elasticsearch.js';
import { LocalStoreBackend } from '../../src/query/local.js';
import { buildQuery, type LogQuery, type QueryBackend, type QueryFlags } from '../../src/query/query.js';
import { deleteIndices, esRequest, refresh, sharedElasticsearch } from '../helpers/elasticsearch.js';
import { AckCounter, fileContext, makeBatch, type RecordSpec } from '../helpers/records.js';
import { queryFixture, type FixtureFile } from '../helpers/query-fixture.js';

/** `analyzer`: the answer depends on how `message` is cut into words (logferry's template vs the standard analyzer). */
type Case = [name: string, text: string | undefined, flags: QueryFlags, needs?: 'analyzer'];

const CASES: Case[] = [
  ['everything', undefined, {}],
  ['namespace', undefined, { namespace: 'billing' }],
  ['namespace with a dash', undefined, { namespace: 'kube-system' }],
  ['pod glob *', undefined, { pod: 'api-*' }],
  ['pod glob ?', undefined, { pod: 'db-?' }],
  ['container', undefined, { container: 'postgres' }],
  ['level', undefined, { level: 'error' }],
  ['stream', undefined, { stream: 'stderr' }],
  ['node', undefined, { node: 'node-other' }],
  ['label equals', undefined, { selector: 'app=web' }],
  ['dotted label key', undefined, { selector: 'app.kubernetes.io/name=web' }],
  ['label not equals (absent counts)', undefined, { selector: 'tier!=frontend' }],
  ['label in', undefined, { selector: 'app in (api, db)' }],
  ['label notin', undefined, { selector: 'tier notin (backend)' }],
  ['label exists', undefined, { selector: 'tier' }],
  ['label absent', undefined, { selector: '!tier' }],
  ['time range', undefined, { from: '2026-11-24T10:00:03Z', to: '2026-11-24T10:00:08Z' }],
  ['time range, microseconds', undefined, { from: '2026-11-24T10:00:03.000001Z', to: '2026-11-24T10:00:07.000001Z' }],
  ['word', 'payment', {}],
  ['word, other case', 'PAYMENT', {}],
  ['two words anywhere', 'reset connection', {}],
  ['phrase', '"card expired"', {}],
  ['prefix', 'pay*', {}],
  ['exclude word', 'payment -declined', {}],
  ['exclude phrase', 'payment -"card expired"', {}],
  ['only exclusion', '-connection', {}],
  ['field:value', 'kubernetes.namespace:shop', {}],
  ['alias field', 'level:warning', {}],
  ['json field', 'json.user.id:u2', {}],
  ['negated field', '-namespace:billing', {}],
  ['message field', 'message:"pool resized"', {}],
  ['text with filters', 'connection', { namespace: 'billing' }],
  ['oldest first', undefined, { oldestFirst: true, limit: '3' }],
  ['newest first, limited', undefined, { limit: '2' }],
  // Issue 14: words split at punctuation on both backends (logferry's message analyzer = SQLite unicode61).
  ['word inside INFO:invoices:rendered', 'rendered', {}, 'analyzer'],
  ['words of a:b:c in any case', 'Rendered INVOICES', {}, 'analyzer'],
  ['phrase across colons', '"invoices rendered invoice"', {}, 'analyzer'],
  ['prefix after a colon', 'render*', {}, 'analyzer'],
  ['word inside example.org.', 'example', {}, 'analyzer'],
  ['word inside plugin/errors:', 'errors', {}],
  // OR, NOT, AND, parentheses
  ['OR of words', 'declined OR reset', {}],
  ['OR with a field', 'healthz OR level:error', {}],
  ['group with an exclusion', '(payment OR connection) -declined', {}],
  ['NOT a field', 'NOT level:info', {}],
  ['NOT a group of fields', 'NOT (level:info OR namespace:kube-system)', {}],
  ['explicit AND', 'payment AND accepted', {}],
  ['OR of conjunctions', '(upstream reset) OR (order accepted)', {}],
  ['word minus a group with fields', 'connection -(namespace:shop OR level:error)', {}],
  ['OR of json fields', 'json.user.id:u1 OR json.user.id:u2', {}],
  ['OR of stream and level', 'stream:stderr OR level:warn', {}],
  ['OR with a time range', '(payment OR checkpoint)', { from: '2026-11-24T10:00:03Z', to: '2026-11-24T10:00:08Z' }],
  ['OR with a label selector', 'reset OR resized OR rendered', { selector: 'tier' }, 'analyzer'],
  ['nested groups', '((payment OR "pool resized") AND NOT json.user.id:u2) OR (namespace:kube-system level:error)', {}],
  // patterns on keyword fields
  ['pod prefix', 'pod:api*', {}],
  ['pod ? pattern', 'pod:db-?', {}],
  ['excluded pod prefix', '-pod:coredns*', {}],
  ['label value prefix', 'kubernetes.labels.app:we*', {}],
  ['container prefix', 'container:post*', {}],
  ['node prefix OR namespace', 'node:node-o* OR namespace:kube-system', {}],
  ['file path', 'file:/var/log/containers/db-0_billing_postgres.log', {}],
  // case and level names
  ['level in upper case', 'level:ERROR', {}],
  ['level:warn also finds warning', 'level:warn', {}],
  ['--level WARNING', undefined, { level: 'WARNING' }],
  ['namespace in another case', 'namespace:Billing', {}],
  ['--namespace in upper case', undefined, { namespace: 'SHOP' }],
  // time bounds outside what records can have are clamped, not an Elasticsearch 400
  ['--since longer than the epoch', undefined, { since: '30000d' }],
  ['--to after date_nanos ends', undefined, { to: '9999-01-01T00:00:00Z' }],
];

/** The lead's fixture plus a kube-system pod (a value with a dash: one token for keyword, two for text). */
function fixture(prefix: string): FixtureFile[] {
  const dns = fileContext(
    '/var/log/containers/coredns-5d78c9869d-x2x4z_kube-system_coredns.log',
    { namespace: 'kube-system', podName: 'coredns-5d78c9869d-x2x4z', containerName: 'coredns', nodeName: 'node-q', labels: { 'k8s-app': 'kube-dns' } },
    `${prefix}dns-`,
  );
  const records: RecordSpec[] = [
    { offset: 0, timestamp: '2026-11-24T10:00:04.000000004Z', stream: 'stdout', level: 'info', message: '[INFO] plugin/reload: Running configuration SHA512' },
    {
      offset: 90,
      timestamp: '2026-11-24T10:00:11.000000011Z',
      stream: 'stderr',
      level: 'error',
      message: '[ERROR] plugin/errors: 2 example.org. A: read udp: i/o timeout',
    },
  ];
  // Python's logging default format, as the demo's invoices pod writes it; levels as the parsers store them.
  const invoices = fileContext(
    '/var/log/containers/invoices-6b7c8d9f5-m3n4b_billing_invoices.log',
    { namespace: 'billing', podName: 'invoices-6b7c8d9f5-m3n4b', containerName: 'invoices', nodeName: 'node-q', labels: { app: 'invoices', tier: 'backend' } },
    `${prefix}inv-`,
  );
  const invoiceRecords: RecordSpec[] = [
    { offset: 0, timestamp: '2026-11-24T10:00:00.500000000Z', stream: 'stdout', level: 'info', message: 'INFO:invoices:rendered invoice INV-20017 in 17ms' },
    { offset: 60, timestamp: '2026-11-24T10:00:08.500000000Z', stream: 'stderr', level: 'warn', message: 'WARNING:invoices:slow render of INV-20018 (1.2s)' },
  ];
  return [...queryFixture(prefix), { file: dns, records }, { file: invoices, records: invoiceRecords }];
}

async function walk(backend: QueryBackend, flags: QueryFlags, text?: string): Promise<string[]> {
  const ids: string[] = [];
  let query: LogQuery = buildQuery(text, { ...flags, limit: '3' });
  for (;;) {
    const page = await backend.search(query);
    ids.push(...page.map((r) => r.id));
    if (page.length < 3) return ids;
    query = { ...query, after: page[page.length - 1].cursor };
  }
}

describe('query backends give the same answers', () => {
  let dataDir: string;
  let local: LocalStoreBackend;
  let es: ElasticsearchBackend | undefined;
  let dynamic: ElasticsearchBackend | undefined;
  const index = `qtest${process.pid}`;
  const dynamicIndex = `qdyn${process.pid}`;
  const url = process.env.LOGFERRY_TEST_ES_URL;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'logferry-q-'));
    const counter = new AckCounter();
    const store = new LocalStoreSink({ dataDir, retentionDays: 100_000, maxBytes: 1e12 });
    await store.start();
    for (const f of fixture('q')) store.write(makeBatch(counter, f.file, f.records));
    await store.shutdown();
    local = new LocalStoreBackend(dataDir);
    if (!url) return;
    // Through the sink: logferry's template, daily indices, create with the deterministic ids.
    const config = resolveElasticsearchConfig({ hosts: [url], index }, {})!;
    const sink = new ElasticsearchSink(config);
    await sink.start();
    for (const f of fixture('q')) sink.write(makeBatch(counter, f.file, f.records));
    await sink.shutdown();
    await refresh(url, `${index}-*`);
    es = new ElasticsearchBackend(config);
    // Straight through _bulk into an index no template matches: Elasticsearch's dynamic mapping.
    const encoder = new DocumentEncoder();
    let bulk = '';
    for (const f of fixture('q')) {
      for (const record of makeBatch(counter, f.file, f.records)) {
        bulk += JSON.stringify({ create: { _index: `${dynamicIndex}-${utcDay(record.timestamp)}`, _id: record.id } }) + '\n' + encoder.encode(record) + '\n';
      }
    }
    const result = await esRequest(url, 'POST', '/_bulk?refresh=true', bulk);
    assert.equal(result.errors, false);
    dynamic = new ElasticsearchBackend(config, `${dynamicIndex}-*`);
  });
  after(async () => {
    await local?.close();
    await es?.close();
    await dynamic?.close();
    if (url) await deleteIndices(url, `${index}-*,${dynamicIndex}-*`);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('local store: every filter and text syntax', async () => {
    const messages = async (text: string | undefined, flags: QueryFlags) => (await local.search(buildQuery(text, flags))).map((r) => r.doc.message);
    assert.equal((await messages(undefined, {})).length, 12);
    assert.deepEqual(await messages(undefined, { namespace: 'shop', oldestFirst: true }), [
      'GET /healthz 200 in 3ms',
      'GET /cart 200 in 12ms',
      'upstream connection reset by peer',
    ]);
    assert.deepEqual(await messages('"card expired"', {}), ['payment declined order=18 card expired']);
    assert.deepEqual(await messages('payment -declined', {}), ['payment accepted order=17']);
    assert.deepEqual(await messages(undefined, { selector: 'app.kubernetes.io/name=web', level: 'error' }), ['upstream connection reset by peer']);
    assert.deepEqual(await messages('json.user.id:u2', {}), ['payment declined order=18 card expired']);
    assert.deepEqual(await messages(undefined, { limit: '2' }), [
      '[ERROR] plugin/errors: 2 example.org. A: read udp: i/o timeout',
      'connection pool resized to 20',
    ]);
  });

  for (const [mapping, get] of [
    ["logferry's template", () => es],
    ['dynamic mapping (text + keyword)', () => dynamic],
  ] as const) {
    it(`Elasticsearch with ${mapping} returns the same records as the local store for every query`, async (t) => {
      const backend = get();
      if (!sharedElasticsearch(t) || !backend) return;
      assert.ok(CASES.length >= 30);
      for (const [name, text, flags, needs] of CASES) {
        const query = buildQuery(text, flags);
        // A dynamically mapped @timestamp is a millisecond `date`: bounds inside a millisecond round.
        if (name === 'time range, microseconds' && backend === dynamic) continue;
        // An index Elasticsearch mapped itself has the standard analyzer: `INFO:invoices:rendered` is one word
        // there (as in indices logferry created before its template had the message analyzer).
        if (needs === 'analyzer' && backend === dynamic) continue;
        const fromLocal: string[] = (await local.search(query)).map((r) => r.id);
        const fromEs: string[] = (await backend.search(query)).map((r) => r.id);
        assert.deepEqual(fromEs, fromLocal, name);
        assert.ok(fromLocal.length > 0, `${name} found something`);
        assert.deepEqual(await backend.count(query, 5), await local.count(query, 5), `count: ${name}`);
      }
      const [first] = await backend.search(buildQuery('"card expired"', {}));
      const [same] = await local.search(buildQuery('"card expired"', {}));
      assert.deepEqual(first.doc, same.doc, 'the same document from both');
      assert.equal(first.tsMicros, same.tsMicros);
    });

    it(`pagination with a cursor walks every record once (${mapping})`, async (t) => {
      for (const [flags, text] of [
        [{}],
        [{ oldestFirst: true }],
        [{ namespace: 'billing' }],
        [{}, 'connection'],
        [{}, 'payment OR connection OR level:error'],
      ] as Array<[QueryFlags, string?]>) {
        const localIds = await walk(local, flags, text);
        assert.equal(new Set(localIds).size, localIds.length);
        if (!sharedElasticsearch(t) || !get()) return;
        assert.deepEqual(await walk(get()!, flags, text), localIds, JSON.stringify(flags));
      }
    });
  }

  it('what Elasticsearch refuses comes back as one line in words, not its JSON', async (t) => {
    if (!sharedElasticsearch(t) || !dynamic) return;
    // json.order is a long in the dynamically mapped index: no wildcard on numbers there.
    await assert.rejects(dynamic.search(buildQuery('json.order:1*', {})), (error: unknown) => {
      assert.ok(error instanceof BackendError);
      assert.match(error.message, /^Elasticsearch at http:\/\/\S+ did not accept the query \(HTTP 400 to POST \/qdyn\d+-\*\/_search\): \w+: .*wildcard/);
      assert.doesNotMatch(error.message, /[\n{}]/);
      assert.ok(error.message.length < 420, error.message);
      return true;
    });
  });

  it('an unreachable Elasticsearch is an error naming the hosts tried', async () => {
    const config = resolveElasticsearchConfig(undefined, { ELASTICSEARCH_HOSTS: 'http://127.0.0.1:1,http://127.0.0.1:2' })!;
    const backend = new ElasticsearchBackend(config);
    await assert.rejects(backend.search(buildQuery(undefined, {})), (error: unknown) => {
      assert.ok(error instanceof BackendError);
      assert.match(error.message, /cannot reach Elasticsearch: tried http:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\), http:\/\/127\.0\.0\.1:2/);
      return true;
    });
    await backend.close();
  });
});
