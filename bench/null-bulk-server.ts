/**
 * A minimal Elasticsearch bulk endpoint for benchmarks: answers `GET /` like an 8.x node, accepts
 * templates, and answers every `_bulk` with a correct per-item 201 response (gzip bodies included), so the
 * agent's whole path runs while the receiving side costs next to nothing. Runs in its own process:
 *   node null-bulk-server.js   → prints {"port":N} on stdout
 */
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

const ITEM = '{"create":{"_index":"null","_id":"x","_version":1,"result":"created","status":201}}';
let items = 0;
let bytes = 0;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (req.method === 'GET' && (req.url === '/' || req.url === '')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name: 'null', version: { number: '8.15.0', distribution: 'elasticsearch' }, tagline: 'You Know, for Search' }));
      return;
    }
    if (req.url?.startsWith('/_stats')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ items, bytes }));
      return;
    }
    if (req.method === 'POST' && req.url?.includes('_bulk')) {
      let body = Buffer.concat(chunks);
      bytes += body.length;
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      let lines = 0;
      for (let i = body.indexOf(10); i !== -1; i = body.indexOf(10, i + 1)) lines++;
      const n = lines >> 1;
      items += n;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"took":1,"errors":false,"items":[${new Array(n).fill(ITEM).join(',')}]}`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"acknowledged":true}');
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }) + '\n');
});
