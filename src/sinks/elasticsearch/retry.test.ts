/**
 * Item-level retries: a real Elasticsearch cannot be made to answer 429 for chosen items on demand, so a
 * local endpoint speaks the bulk protocol and rejects every other item once. Only those items may be sent
 * again, with Retry-After honoured, and every record is acknowledged exactly once.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { resolveElasticsearchConfig } from './config.js';
import { ElasticsearchSink } from './sink.js';
import { AckCounter, fileContext, makeBatch } from '../../../test/helpers/records.js';

interface Seen {
  ids: string[];
  at: number;
}

function bulkServer(reject: (id: string, attempt: number) => number | undefined): Promise<{ server: Server; url: string; requests: Seen[] }> {
  const requests: Seen[] = [];
  const attempts = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET') {
        res.end(JSON.stringify({ version: { number: '8.15.0' } }));
        return;
      }
      if (!req.url?.startsWith('/_bulk')) {
        res.end('{"acknowledged":true}');
        return;
      }
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const lines = body.toString('utf8').split('\n').filter(Boolean);
      const ids: string[] = [];
      const items: string[] = [];
      let errors = false;
      for (let i = 0; i < lines.length; i += 2) {
        const id = (JSON.parse(lines[i]) as { create: { _id: string } }).create._id;
        ids.push(id);
        const attempt = (attempts.get(id) ?? 0) + 1;
        attempts.set(id, attempt);
        const status = reject(id, attempt) ?? 201;
        if (status !== 201) errors = true;
        items.push(JSON.stringify({ create: { _id: id, status, ...(status !== 201 ? { error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } : {}) } }));
      }
      requests.push({ ids, at: Date.now() });
      res.setHeader('content-type', 'application/json');
      res.end(`{"took":1,"errors":${errors},"items":[${items.join(',')}]}`);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address() as { port: number };
    resolve({ server, url: `http://127.0.0.1:${address.port}`, requests });
  }));
}

describe('Elasticsearch sink retries', () => {
  it('re-sends only the items answered 429, acknowledges each record once', async () => {
    const { server, url, requests } = await bulkServer((id, attempt) => (attempt === 1 && Number(id.split('-').pop()) % 2 === 1 ? 429 : undefined));
    try {
      const config = { ...resolveElasticsearchConfig({ hosts: [url] } as never, {})!, retryInitialDelayMs: 20, retryMaxDelayMs: 100 };
      const sink = new ElasticsearchSink(config);
      await sink.start();
      const counter = new AckCounter();
      const file = fileContext('/var/log/x.log', { namespace: 'ns' }, 'r-');
      sink.write(makeBatch(counter, file, Array.from({ length: 100 }, (_, i) => ({ offset: i, timestamp: '2026-11-24T10:00:00Z', message: `m${i}` })), 100));
      await sink.flush();
      assert.equal(requests.length, 2);
      assert.equal(requests[0].ids.length, 100);
      assert.deepEqual(requests[1].ids, Array.from({ length: 50 }, (_, i) => `r-${i * 2 + 1}`), 'only the rejected items, in order');
      assert.equal(sink.stats().stored, 100);
      assert.equal(sink.stats().retries, 1);
      assert.deepEqual(counter.commits, [100]);
      await sink.shutdown();
    } finally {
      server.close();
    }
  });
});
