import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countDocs, esRequest, sharedElasticsearch, startPrivateElasticsearch } from '../helpers/elasticsearch.js';

describe('test Elasticsearch', () => {
  it('is a real Elasticsearch that stores and returns documents', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const info = await esRequest(url, 'GET', '/');
    assert.match(info.version.number, /^7\./);
    await esRequest(url, 'PUT', '/harness-check/_doc/1?refresh=true', { message: 'hello' });
    const doc = await esRequest(url, 'GET', '/harness-check/_doc/1');
    assert.equal(doc._source.message, 'hello');
  });

  it('a private instance keeps its data across stop and start', async (t) => {
    if (!sharedElasticsearch(t)) return;
    const es = await startPrivateElasticsearch();
    try {
      await esRequest(es.url, 'PUT', '/keep/_doc/1?refresh=true', { n: 1 });
      await es.stop();
      await assert.rejects(fetch(es.url));
      await es.start();
      assert.equal(await countDocs(es.url, 'keep'), 1);
    } finally {
      await es.close();
    }
  });
});
