import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countDocs, deleteIndices, esRequest, searchAll, sharedElasticsearch, startPrivateElasticsearch } from '../helpers/elasticsearch.js';

describe('test Elasticsearch', () => {
  it('is a healthy single-node Elasticsearch that reports its version', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const health = await esRequest(url, 'GET', '/_cluster/health');
    assert.ok(['green', 'yellow'].includes(health.status), `status ${health.status}`);
    assert.equal(health.number_of_nodes, 1);
    const info = await esRequest(url, 'GET', '/');
    assert.match(info.version.number, /^7\.10\./);
    assert.equal(info.cluster_name, health.cluster_name);
  });

  it('stores a document and returns it', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    await esRequest(url, 'PUT', '/harness-check/_doc/1?refresh=true', { message: 'hello' });
    const doc = await esRequest(url, 'GET', '/harness-check/_doc/1');
    assert.equal(doc.found, true);
    assert.equal(doc._source.message, 'hello');
    await deleteIndices(url, 'harness-check');
    assert.equal((await esRequest(url, 'GET', '/harness-check/_doc/1')).status, 404);
  });

  it('applies a composable index template with date_nanos and takes bulk creates; searchAll reads every page', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    await esRequest(url, 'PUT', '/_index_template/harness-nanos', {
      index_patterns: ['harness-nanos-*'],
      template: {
        settings: { number_of_shards: 1, number_of_replicas: 0 },
        mappings: { properties: { '@timestamp': { type: 'date_nanos' }, message: { type: 'text' }, n: { type: 'long' } } },
      },
    });
    try {
      const total = 12_345; // more than two scroll pages
      const lines: string[] = [];
      for (let n = 0; n < total; n++) {
        const ts = `2026-11-24T10:00:00.${String(n).padStart(9, '0')}Z`;
        lines.push(JSON.stringify({ create: { _index: 'harness-nanos-a', _id: `id-${n}` } }), JSON.stringify({ '@timestamp': ts, message: `line ${n}`, n }));
      }
      const result = await esRequest(url, 'POST', '/_bulk', lines.join('\n') + '\n');
      assert.equal(result.errors, false);
      assert.equal(result.items.length, total);
      // The same _id again with create: 409 per item, nothing overwritten.
      const again = await esRequest(url, 'POST', '/_bulk', lines.slice(0, 2).join('\n') + '\n');
      assert.equal(again.items[0].create.status, 409);

      const mapping = await esRequest(url, 'GET', '/harness-nanos-a/_mapping');
      assert.equal(mapping['harness-nanos-a'].mappings.properties['@timestamp'].type, 'date_nanos');
      // Nanoseconds survive: a range one nanosecond wide finds exactly one document.
      const nano = { range: { '@timestamp': { gte: '2026-11-24T10:00:00.000000007Z', lte: '2026-11-24T10:00:00.000000007Z' } } };
      assert.equal(await countDocs(url, 'harness-nanos-*', nano), 1);

      const docs = await searchAll(url, 'harness-nanos-*');
      assert.equal(docs.length, total);
      assert.equal(new Set(docs.map((d) => d._id)).size, total);
      const seven = docs.find((d) => d._id === 'id-7');
      assert.equal(seven?._source.message, 'line 7');
      assert.equal(seven?._index, 'harness-nanos-a');
      assert.equal((await searchAll(url, 'harness-nanos-*', { term: { n: 42 } })).length, 1);
      assert.deepEqual(await searchAll(url, 'no-such-index-*'), []);
    } finally {
      await deleteIndices(url, 'harness-nanos-*');
      await esRequest(url, 'DELETE', '/_index_template/harness-nanos');
    }
  });

  it('a private instance refuses connections while stopped and keeps its data across stop and start', async (t) => {
    if (!sharedElasticsearch(t)) return;
    const es = await startPrivateElasticsearch();
    try {
      assert.notEqual(es.url, process.env.LOGFERRY_TEST_ES_URL);
      await esRequest(
        es.url,
        'POST',
        '/_bulk',
        ['{"create":{"_index":"keep","_id":"a"}}', '{"n":1}', '{"create":{"_index":"keep","_id":"b"}}', '{"n":2}', ''].join('\n'),
      );
      await es.stop();
      await assert.rejects(fetch(es.url));
      await es.start();
      assert.equal(await countDocs(es.url, 'keep'), 2);
      const doc = await esRequest(es.url, 'GET', '/keep/_doc/b');
      assert.equal(doc._source.n, 2);
    } finally {
      await es.close();
    }
  });
});
