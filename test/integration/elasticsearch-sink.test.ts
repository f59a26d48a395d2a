/**
 * Issue 2: the Elasticsearch sink against the real Elasticsearch of the test run (and a private node for
 * the outage). Every test checks each record's acknowledgement, not just a count: a record acknowledged
 * twice and one never acknowledged cannot hide each other.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { RecordFlag, type LogRecord } from '../../src/event/record.js';
import { elasticsearchConfigFromEnv, type ElasticsearchConfig, type ElasticsearchFileInput } from '../../src/sinks/elasticsearch/config.js';
import { ElasticsearchSink } from '../../src/sinks/elasticsearch/sink.js';
import { countDocs, deleteIndices, esRequest, searchAll, sharedElasticsearch, startPrivateElasticsearch } from '../helpers/elasticsearch.js';
import { closedPort, fastSinkConfig, sinkFor as sinkWithTeardown } from '../helpers/es-sink.js';
import { AckTracker, makeRecords } from '../helpers/records.js';

const tag = `${process.pid}`;

// A real cluster answers in milliseconds, not at once: retries and probes a few times slower than in the unit tests.
const config = (hosts: string[], extra: Partial<ElasticsearchFileInput> = {}): ElasticsearchConfig => fastSinkConfig(hosts, extra, 2.5);
const sinkFor = (t: TestContext, cfg: ElasticsearchConfig, errors: string[] = []): ElasticsearchSink => sinkWithTeardown(t, cfg, errors, 1000);

function assertAckedOnce(tracker: AckTracker, expected: number): void {
  const report = tracker.report();
  assert.deepEqual({ once: report.once, never: report.never, twice: report.twice }, { once: expected, never: [], twice: [] });
}

/** Records with every field the encoder writes: JSON message, flags, glog origin, thread id. */
function richRecords(n: number, tracker: AckTracker, from = 0): LogRecord[] {
  const records = makeRecords(n, {
    tracker,
    from,
    json: (k) => (k % 2 === 0 ? { user: { id: `u${k}` }, took_ms: k } : undefined),
    level: 'warning',
    stream: 'stderr',
  });
  for (const record of records) {
    const k = record.offset / 100;
    if (k % 3 === 0) record.flags = RecordFlag.TRUNCATED | RecordFlag.INVALID_UTF8;
    if (k % 5 === 0) record.extra = { log: { origin: { file: { name: 'server.go', line: 100 + k } } }, process: { thread: { id: 7 } } };
  }
  return records;
}

describe('Elasticsearch sink (real Elasticsearch)', () => {
  it('writes N records and reads them back with every field; the same records again leave N documents', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const index = `sinka${tag}`;
    t.after(() => deleteIndices(url, `${index}-*`));
    const sink = sinkFor(t, config([url], { index, bulkMaxRecords: 700 }));
    await sink.start();
    assert.match(`${sink.serverInfo?.distribution} ${sink.serverInfo?.version}`, /^(elasticsearch|opensearch) \d+\./);
    const tracker = new AckTracker();
    const N = 5000;
    for (let i = 0; i < 10; i++) sink.write(richRecords(500, tracker, i * 500));
    await sink.flush();
    assert.deepEqual(sink.stats(), { stored: N, duplicates: 0, deadLettered: 0, failed: 0, retries: 0 });
    assertAckedOnce(tracker, N);
    assert.equal(tracker.commits.at(-1), N - 1);

    const docs = await searchAll(url, `${index}-*`);
    assert.equal(docs.length, N);
    assert.equal(new Set(docs.map((d) => d._id)).size, N);
    const byId = new Map(docs.map((d) => [d._id, d]));
    const expected = richRecords(60, new AckTracker());
    for (const record of expected) {
      const doc = byId.get(record.id);
      assert.ok(doc, record.id);
      const k = record.offset / 100;
      assert.equal(doc._index, `${index}-2026.11.24`);
      const s = doc._source;
      assert.equal(s['@timestamp'], record.timestamp, 'nanoseconds kept');
      assert.equal(s.message, `record ${k} ✓`);
      assert.equal(s.stream, 'stderr');
      assert.deepEqual(s.log.file, { path: record.file.path });
      assert.equal(s.log.offset, record.offset);
      assert.equal(s.log.level, 'warning');
      assert.deepEqual(s.log.flags, k % 3 === 0 ? ['truncated', 'invalid_utf8'] : undefined);
      assert.deepEqual(s.log.origin, k % 5 === 0 ? { file: { name: 'server.go', line: 100 + k } } : undefined);
      assert.deepEqual(s.process, k % 5 === 0 ? { thread: { id: 7 } } : undefined);
      assert.deepEqual(s.json, k % 2 === 0 ? { user: { id: `u${k}` }, took_ms: k } : undefined);
      assert.deepEqual(s.kubernetes, {
        namespace: 'ns',
        pod: { name: 'app-1', uid: 'uid-1' },
        container: { name: 'app' },
        node: { name: 'n1' },
        labels: { app: 'x', 'app_kubernetes_io/version': '1.0' },
      });
      assert.deepEqual(s.container, { id: 'containerd://0123456789abcdef' });
      assert.deepEqual(s.host, { name: 'n1' });
    }

    const mapping = await esRequest(url, 'GET', `/${index}-2026.11.24/_mapping`);
    const props = mapping[`${index}-2026.11.24`].mappings.properties;
    assert.equal(props['@timestamp'].type, 'date_nanos');
    assert.equal(props.message.type, 'text');
    assert.equal(props.kubernetes.properties.namespace.type, 'keyword');
    assert.equal(props.kubernetes.properties.labels.properties['app_kubernetes_io/version'].type, 'keyword', 'a label that looks like a number is a keyword');
    assert.equal(props.log.properties.offset.type, 'long');
    assert.equal(props.log.properties.origin.properties.file.properties.line.type, 'long');
    assert.equal(props.log.properties.file.properties.path.type, 'keyword');
    assert.equal(props.container.properties.id.type, 'keyword');
    assert.equal(props.json.properties.took_ms.type, 'long', 'json.* mapped dynamically');

    // The same records again: 409s, counted as duplicates, still N documents, each acknowledged once.
    const replay = new AckTracker();
    for (let i = 0; i < 10; i++) sink.write(richRecords(500, replay, i * 500));
    await sink.flush();
    assert.equal(sink.stats().duplicates, N);
    assert.equal(sink.stats().stored, N);
    assertAckedOnce(replay, N);
    assert.equal(await countDocs(url, `${index}-*`), N);
  });

  it('a record that conflicts with the mapping lands in the dead-letter index with its reason', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const index = `sinkb${tag}`;
    const dead = `dlq${tag}`;
    t.after(() => deleteIndices(url, `${index}-*,${dead}-*`));
    const errors: string[] = [];
    const sink = sinkFor(t, config([url], { index, deadLetterIndex: dead }), errors);
    await sink.start();
    const tracker = new AckTracker();
    sink.write(makeRecords(1, { tracker, json: () => ({ user: { id: 1 } }) }));
    await sink.flush();
    sink.write(
      makeRecords(2, {
        tracker,
        from: 1,
        json: (k) => (k === 1 ? { user: 'bob' } : undefined),
        message: (k) => (k === 1 ? 'string where an object is mapped' : 'fine'),
      }),
    );
    await sink.flush();
    assert.deepEqual(sink.stats(), { stored: 2, duplicates: 0, deadLettered: 1, failed: 0, retries: 0 });
    assertAckedOnce(tracker, 3);
    assert.ok(
      errors.some((e) => e.includes('dead-letter') && e.includes('mr-100')),
      'the rejection is logged with the record',
    );

    const letters = await searchAll(url, `${dead}-*`);
    assert.equal(letters.length, 1);
    const letter = letters[0];
    assert.equal(letter._id, 'mr-100', 'same id: a replay finds it there');
    assert.equal(letter._index, `${dead}-2026.11.24`);
    assert.equal(letter._source.error.status, 400);
    // Elasticsearch 8+ names it document_parsing_exception; 7.x and OpenSearch mapper_parsing_exception.
    const parsing = letter._source.error.type as string;
    assert.match(parsing, /^(mapper|document)_parsing_exception$/);
    assert.match(letter._source.reason, new RegExp(`^400 ${parsing}: .*json\\.user.* \\(index ${index}-2026\\.11\\.24\\)$`));
    assert.equal(letter._source.index, `${index}-2026.11.24`);
    const original = JSON.parse(letter._source.document);
    assert.equal(original.message, 'string where an object is mapped');
    assert.deepEqual(original.json, { user: 'bob' });
    assert.equal(letter._source.kubernetes.pod.name, 'app-1');
    // Searchable by reason; the document itself is stored, not indexed.
    assert.equal(await countDocs(url, `${dead}-*`, { term: { 'error.type': parsing } }), 1);
    const mapping = await esRequest(url, 'GET', `/${dead}-2026.11.24/_mapping`);
    const props = mapping[`${dead}-2026.11.24`].mappings.properties;
    assert.equal(props.reason.type, 'keyword');
    assert.equal(props.document.index, false);

    // Replayed: the dead letter is already there (409), counted as dead-lettered again, still one.
    const replay = new AckTracker();
    sink.write(makeRecords(1, { tracker: replay, from: 1, json: () => ({ user: 'bob' }), message: () => 'string where an object is mapped' }));
    await sink.flush();
    assertAckedOnce(replay, 1);
    assert.equal(await countDocs(url, `${dead}-*`), 1);
  });

  it('a host list with one dead host still delivers everything (gzip off)', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const index = `sinkc${tag}`;
    t.after(() => deleteIndices(url, `${index}-*`));
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const sink = sinkFor(t, config([dead, url], { index, bulkMaxRecords: 100, gzip: false, deadHostRetryMs: 60_000 }));
    await sink.start();
    const tracker = new AckTracker();
    for (let i = 0; i < 10; i++) sink.write(makeRecords(100, { tracker, from: i * 100 }));
    await sink.flush();
    assert.equal(await countDocs(url, `${index}-*`), 1000);
    assert.equal(sink.stats().stored, 1000);
    assertAckedOnce(tracker, 1000);
    assert.equal(sink.healthy(), true);
    assert.deepEqual({ hosts: sink.elasticsearchStats().hosts, up: sink.elasticsearchStats().hostsUp }, { hosts: 2, up: 1 });
  });

  it('configured from the environment (ELASTICSEARCH_HOST + ELASTICSEARCH_PORT), templates off', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const { hostname, port } = new URL(url);
    const cfg = elasticsearchConfigFromEnv({ ELASTICSEARCH_HOST: hostname, ELASTICSEARCH_PORT: port })!;
    const index = `sinkd${tag}`;
    t.after(() => deleteIndices(url, `${index}-*`));
    const sink = sinkFor(t, { ...cfg, index, installTemplate: false, flushIntervalMs: 20 });
    await sink.start();
    const tracker = new AckTracker();
    sink.write(makeRecords(10, { tracker }));
    await sink.flush();
    assertAckedOnce(tracker, 10);
    assert.equal(await countDocs(url, `${index}-*`), 10);
    const templates = await esRequest(url, 'GET', `/_index_template/logferry-${index}`);
    assert.equal(templates.index_templates, undefined, 'no template installed');
    const mapping = await esRequest(url, 'GET', `/${index}-2026.11.24/_mapping`);
    assert.equal(mapping[`${index}-2026.11.24`].mappings.properties['@timestamp'].type, 'date', 'dynamic mapping without the template');
  });

  it('data streams: used where the server has them, refused with the reason where it has not', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const stream = `logs-logferry${tag}-default`;
    const sink = new ElasticsearchSink(config([url], { dataStream: stream }));
    t.after(() => sink.shutdown(1000));
    const started = await sink.start().then(
      () => undefined,
      (error: Error) => error,
    );
    if (started instanceof Error) {
      // The test cluster (the OSS build of 7.10) has none: the sink must say so at start, not lose records.
      assert.match(started.message, /^output\.elasticsearch\.dataStream: Elasticsearch [\d.]+.* has no data streams .*Remove dataStream/);
      t.diagnostic(`this cluster has no data streams: ${started.message}`);
      return;
    }
    t.after(async () => {
      await esRequest(url, 'DELETE', `/_data_stream/${stream}`);
      await esRequest(url, 'DELETE', `/_index_template/logferry-${stream}`);
    });
    const tracker = new AckTracker();
    sink.write(makeRecords(10, { tracker }));
    await sink.flush();
    assertAckedOnce(tracker, 10);
    const info = await esRequest(url, 'GET', `/_data_stream/${stream}`);
    assert.equal(info.data_streams[0].name, stream);
    assert.equal(await countDocs(url, stream), 10);
  });

  it('Elasticsearch stopped in the middle of a stream and started again: every record once, each acknowledged once', async (t) => {
    if (!sharedElasticsearch(t)) return;
    const es = await startPrivateElasticsearch();
    t.after(() => es.close());
    const index = 'outage';
    const sink = sinkFor(t, config([es.url], { index, bulkMaxRecords: 200, flushIntervalMs: 20 }));
    await sink.start();
    const tracker = new AckTracker();
    const batches = 80;
    const perBatch = 250;
    let written = 0;
    const writer = (async () => {
      for (let i = 0; i < batches; i++) {
        sink.write(makeRecords(perBatch, { tracker, from: i * perBatch }));
        written += perBatch;
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    await new Promise((r) => setTimeout(r, 800));
    await es.stop();
    await writer;
    assert.equal(written, batches * perBatch);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sink.healthy(), false, 'unhealthy while the cluster is down');
    const during = tracker.report();
    assert.ok(during.neverCount > 0, 'records written during the outage wait unacknowledged');
    assert.equal(during.twiceCount, 0);
    await es.start();
    await sink.flush();
    assert.equal(sink.healthy(), true);
    assertAckedOnce(tracker, written);
    const stats = sink.stats();
    assert.equal(stats.stored + stats.duplicates, written, 'requests cut by the stop may come back as duplicates');
    assert.equal(stats.deadLettered + stats.failed, 0);
    const docs = await searchAll(es.url, `${index}-*`);
    assert.equal(docs.length, written);
    assert.equal(new Set(docs.map((d) => d._id)).size, written, 'no record twice');
    t.diagnostic(`outage: ${stats.stored} stored, ${stats.duplicates} duplicates, ${stats.retries} retries`);
  });
});
