/**
 * Issue 15: clusters behind a proxy, and Elasticsearch-compatible endpoints that take `_bulk` parameters.
 * A host URL with a path prefix and a query string, and configured headers: the sink's every request (start-up,
 * templates, bulk, the replay lookup) and `logferry search` carry all three, against a real server behind a
 * small proxy that answers 404/400/401 when one is missing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveElasticsearchConfig } from '../../src/sinks/elasticsearch/config.js';
import { ElasticsearchSink } from '../../src/sinks/elasticsearch/sink.js';
import { BIN } from '../helpers/agent-process.js';
import { deleteIndices, searchAll } from '../helpers/elasticsearch.js';
import { startEsProxy } from '../helpers/es-proxy.js';
import { serverOfKind, testRuntime } from '../helpers/es-servers.js';
import { AckTracker, makeRecords } from '../helpers/records.js';

const N = 50;

describe('hosts behind a proxy: path prefix, query string, extra headers', () => {
  it('the sink and `logferry search` send the path, the query string and the headers with every request', async (t) => {
    const kind = (await testRuntime()).describeServer().name;
    const server = await serverOfKind(t, kind);
    if (!server) return;
    const proxy = await startEsProxy({ upstream: server.url, prefix: '/es', requireQuery: { tenant: 'a b' }, requireHeaders: { 'x-proxy-token': 't0k' } });
    t.after(() => proxy.close());
    const index = `proxied${process.pid}`;
    t.after(() => deleteIndices(server.url, `${index}-*`));
    const host = `${proxy.url}/es?tenant=a+b`;

    const config = resolveElasticsearchConfig({ hosts: [host], headers: { 'X-Proxy-Token': 't0k' }, index, flushIntervalMs: 50 }, {})!;
    const errors: string[] = [];
    const sink = new ElasticsearchSink(config, {
      onError: (message, context) => errors.push(`${message} ${JSON.stringify(context)}`),
      replayCheckBytes: 1 << 20,
    });
    t.after(() => sink.shutdown(1000));
    await sink.start();
    const tracker = new AckTracker();
    sink.write(makeRecords(N, { tracker }));
    await sink.flush();
    assert.deepEqual(errors, []);
    assert.equal(sink.stats().stored, N);
    assert.equal(tracker.report().once, N);
    assert.equal((await searchAll(server.url, `${index}-*`)).length, N);
    const paths = proxy.seen.map((r) => `${r.method} ${r.url.replace(/\?.*/, '')}`);
    for (const expected of ['GET /es/', 'PUT /es/_index_template/', 'POST /es/_bulk']) {
      assert.ok(
        paths.some((p) => p.startsWith(expected)),
        `${expected} in ${paths.join(', ')}`,
      );
    }
    for (const request of proxy.seen) {
      assert.ok(request.url.startsWith('/es/'), request.url);
      assert.equal(new URL(request.url, 'http://x').searchParams.get('tenant'), 'a b', request.url);
      assert.equal(request.headers['x-proxy-token'], 't0k', request.url);
    }
    // The request's own parameters are kept beside the host's.
    const bulk = proxy.seen.find((r) => r.url.startsWith('/es/_bulk'))!;
    assert.match(bulk.url, /filter_path=/);

    // `logferry search` with the agent's configuration file.
    const dir = mkdtempSync(join(tmpdir(), 'logferry-proxied-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'logferry.yaml');
    const yaml = (headers: string) =>
      ['output:', '  elasticsearch:', `    hosts: [${JSON.stringify(host)}]`, `    index: ${index}`, headers, ''].filter((l) => l !== '').join('\n');
    writeFileSync(file, yaml("    headers: { x-proxy-token: 't0k' }"));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ELASTICSEARCH_') && !k.startsWith('LOGFERRY_')));
    // Not spawnSync: the proxy runs in this process and must answer meanwhile.
    const search = (args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [BIN, 'search', ...args], { encoding: 'utf8', env, timeout: 60_000 }, (error, stdout, stderr) =>
          resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr }),
        );
      });
    const found = await search(['--config', file, '--since', '3650d', '--limit', '100', '--output', 'json', 'record']);
    assert.equal(found.status, 0, found.stderr);
    assert.equal(found.stdout.trim().split('\n').length, N, found.stdout.slice(0, 500));
    // Without the header the proxy refuses, and the error says so in one line.
    writeFileSync(file, yaml(''));
    const refused = await search(['--config', file, '--since', '3650d', '--limit', '1']);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /HTTP 401/);
  });

  it('the configuration accepts a query string, refuses a fragment and headers logferry sets itself', () => {
    const ok = resolveElasticsearchConfig({ hosts: ['https://logs.example/insert/elasticsearch?_msg_field=message&_time_field=@timestamp'] }, {})!;
    assert.equal(ok.hosts[0].search, '?_msg_field=message&_time_field=@timestamp');
    assert.throws(() => resolveElasticsearchConfig({ hosts: ['https://logs.example/es#x'] }, {}), /hosts\[0\]: no fragment allowed/);
    assert.throws(
      () => resolveElasticsearchConfig({ hosts: ['https://logs.example'], headers: { Authorization: 'x' } }, {}),
      /output\.elasticsearch\.headers: authorization, content-type/,
    );
    assert.throws(() => resolveElasticsearchConfig({ hosts: ['https://logs.example'], headers: { 'x-a': 'one\ntwo' } }, {}), /a header value on one line/);
  });
});
