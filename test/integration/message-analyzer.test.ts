/**
 * The index template's message analyzer must take any message the agent ships: a run of 1 MiB without a
 * separator (a line of one character cut at the record size, a base64 blob) once made a single term over
 * Lucene's 32766-byte limit, and Elasticsearch refused the whole document ("immense term"), which went to
 * the dead-letter index instead of being searchable. Seen in `npm test` as a missing 3 MiB CRI line.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MESSAGE_ANALYZER, messageAnalysisSettings, messageTokens } from '../../src/core/message-tokens.js';
import { deleteIndices, esRequest, sharedElasticsearch } from '../helpers/elasticsearch.js';

describe('message analyzer', () => {
  it('indexes a 1 MiB word and finds it by a word around it, like the local store', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const index = `lf-analyzer-${process.pid}`;
    try {
      await esRequest(url, 'PUT', `/${index}`, {
        settings: { number_of_replicas: 0, ...messageAnalysisSettings() },
        mappings: { properties: { message: { type: 'text', analyzer: MESSAGE_ANALYZER } } },
      });
      const message = `seq=long ${'x'.repeat(1024 * 1024)} end:marker`;
      const stored = await esRequest(url, 'PUT', `/${index}/_doc/1?refresh=true`, { message });
      assert.equal(stored.result, 'created', JSON.stringify(stored).slice(0, 300));
      for (const word of ['seq', 'long', 'marker']) {
        const found = await esRequest(url, 'POST', `/${index}/_search`, { query: { match: { message: word } } });
        assert.equal(found.hits.total.value ?? found.hits.total, 1, word);
      }
      // Words up to 255 characters stay whole, as the query side cuts them.
      const analyzed = await esRequest(url, 'POST', `/${index}/_analyze`, { analyzer: MESSAGE_ANALYZER, text: 'INFO:invoices:rendered example.org' });
      assert.deepEqual(
        analyzed.tokens.map((token: { token: string }) => token.token),
        messageTokens('INFO:invoices:rendered example.org'),
      );
    } finally {
      await deleteIndices(url, index);
    }
  });
});
