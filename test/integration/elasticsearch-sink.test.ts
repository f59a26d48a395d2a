/** Issue 2: the sink against the real Elasticsearch. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveElasticsearchConfig, type ElasticsearchConfig } from '../../src/sinks/elasticsearch/config.js';
import { ElasticsearchSink } from '../../src/sinks/elasticsearch/sink.js';
import { countDocs, deleteIndices, esRequest, refresh, sharedElasticsearch, startPrivateElasticsearch } from '../helpers/elasticsearch.js';
import { AckCounter, fileContext, makeBatch, type RecordSpec } from '../helpers/records.js';

function config(hosts: string[], index: string, extra: Partial<ElasticsearchConfig> = {}): ElasticsearchConfig {
  return { ...resolveElasticsearchConfig({ hosts, index } as never, {})!, retryInitialDelayMs: 50, retryMaxDelayMs: 500, deadHostRetryMs: 500, ...extra };
}

const file = fileContext('/var/log/containers/app-1_ns_app.log', { namespace: 'ns', podName: 'app-1', containerName: 'app', nodeName: 'n1', labels: { app: 'x' } }, 'sinkt-');

function specs(n: number, from = 0): RecordSpec[] {
  return Array.from({ length: n }, (_, i) => ({ offset: (from + i) * 100, timestamp: `2026-11-24T10:${String(Math.floor((from + i) / 60) % 60).padStart(2, '0')}:${String((from + i) % 60).padStart(2, '0')}.123456789Z`, stream: 'stdout' as const, message: `record ${from + i} ✓`, level: 'info' }));
}

describe('Elasticsearch sink', () => {
  it('writes N records, reads them back with every field, and a replay leaves N documents', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const index = `sinka${process.pid}`;
    const counter = new AckCounter();
    const sink = new ElasticsearchSink(config([url], index));
    await sink.start();
    for (let i = 0; i < 10; i++) sink.write(makeBatch(counter, file, specs(500, i * 500), (i + 1) * 500));
    await sink.flush();
    assert.equal(sink.stats().stored, 5000);
    assert.deepEqual(counter.commits.at(-1), 5000);
    assert.equal(await countDocs(url, `${index}-*`), 5000);
    const doc = await esRequest(url, 'GET', `/${index}-2026.11.24/_doc/sinkt-100`);
    assert.equal(doc._source['@timestamp'], '2026-11-24T10:00:01.123456789Z');
    assert.equal(doc._source.message, 'record 1 ✓');
    assert.equal(doc._source.kubernetes.labels.app, 'x');
    const mapping = await esRequest(url, 'GET', `/${index}-2026.11.24/_mapping`);
    const props = mapping[`${index}-2026.11.24`].mappings.properties;
    assert.equal(props['@timestamp'].type, 'date_nanos');
    assert.equal(props.kubernetes.properties.namespace.type, 'keyword');
    assert.equal(props.kubernetes.properties.labels.properties.app.type, 'keyword');
    // The same records again: 409s, counted as duplicates, still 5000 documents, every record acknowledged.
    for (let i = 0; i < 10; i++) sink.write(makeBatch(counter, file, specs(500, i * 500), 10_000 + i));
    await sink.flush();
    assert.equal(sink.stats().duplicates, 5000);
    assert.equal(await countDocs(url, `${index}-*`), 5000);
    assert.equal(counter.commits.at(-1), 10_009);
    await sink.shutdown();
    await deleteIndices(url, `${index}-*`);
  });

  it('a record that conflicts with the mapping lands in the dead-letter index with its reason', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const index = `sinkb${process.pid}`;
    const dead = `dlq${process.pid}`;
    const counter = new AckCounter();
    const sink = new ElasticsearchSink(config([url], index, { deadLetterIndex: dead }));
    await sink.start();
    sink.write(makeBatch(counter, file, [{ offset: 1, timestamp: '2026-11-24T10:00:00Z', message: 'object first', json: { user: { id: 1 } } }], 1));
    await sink.flush();
    sink.write(makeBatch(counter, file, [
      { offset: 2, timestamp: '2026-11-24T10:00:01Z', message: 'string where an object is mapped', json: { user: 'bob' } },
      { offset: 3, timestamp: '2026-11-24T10:00:02Z', message: 'fine' },
    ], 3));
    await sink.flush();
    assert.equal(sink.stats().deadLettered, 1);
    assert.equal(sink.stats().stored, 2);
    assert.deepEqual(counter.commits, [1, 3], 'the dead-lettered record is acknowledged too');
    await refresh(url, `${dead}-*`);
    const letters = await esRequest(url, 'POST', `/${dead}-*/_search?ignore_unavailable=true`, { query: { match_all: {} } });
    assert.equal(letters.hits.hits.length, 1);
    const letter = letters.hits.hits[0]._source;
    assert.equal(letter.status, 400);
    assert.equal(letter.reason.type, 'mapper_parsing_exception');
    assert.equal(JSON.parse(letter.document).message, 'string where an object is mapped');
    assert.equal(letter.index, `${index}-2026.11.24`);
    await sink.shutdown();
    await deleteIndices(url, `${index}-*,${dead}-*`);
  });

  it('a host list with one dead host still delivers everything', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const index = `sinkc${process.pid}`;
    const counter = new AckCounter();
    const sink = new ElasticsearchSink(config(['http://127.0.0.1:9', url], index, { bulkMaxRecords: 100 }));
    await sink.start();
    for (let i = 0; i < 10; i++) sink.write(makeBatch(counter, file, specs(100, i * 100), i));
    await sink.flush();
    assert.equal(await countDocs(url, `${index}-*`), 1000);
    assert.equal(sink.stats().stored, 1000);
    await sink.shutdown();
    await deleteIndices(url, `${index}-*`);
  });

  it('Elasticsearch stopped mid-stream and started again: every record once, each acknowledged once', async (t) => {
    if (!sharedElasticsearch(t)) return;
    const es = await startPrivateElasticsearch();
    t.after(() => es.close());
    const index = 'outage';
    const counter = new AckCounter();
    const sink = new ElasticsearchSink(config([es.url], index, { bulkMaxRecords: 200, flushIntervalMs: 50 }));
    await sink.start();
    for (let i = 0; i < 10; i++) sink.write(makeBatch(counter, file, specs(200, i * 200), i));
    await es.stop();
    for (let i = 10; i < 20; i++) sink.write(makeBatch(counter, file, specs(200, i * 200), i));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(sink.healthy(), false, 'unhealthy while the cluster is down');
    await es.start();
    await sink.flush();
    assert.equal(counter.commits.at(-1), 19);
    assert.equal(sink.stats().stored + sink.stats().duplicates, 4000);
    assert.equal(await countDocs(es.url, `${index}-*`), 4000);
    await sink.shutdown();
  });
});
