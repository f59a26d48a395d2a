/** Hosts: round-robin, a dead host set aside and probed back, TLS with a CA file, credentials on the wire. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { startBulkEndpoint } from '../../../bench/lib/bulk-endpoint.js';
import { closedPort } from '../../../test/helpers/es-sink.js';
import { resolveElasticsearchConfig, type ElasticsearchFileInput } from './config.js';
import { ElasticsearchSink } from './sink.js';
import { Transport } from './transport.js';

function transport(t: TestContext, section: ElasticsearchFileInput, env: NodeJS.ProcessEnv = {}): Transport {
  const tr = new Transport(resolveElasticsearchConfig({ deadHostRetryMs: 50, retryMaxDelayMs: 100, ...section }, env)!);
  t.after(() => tr.close(true));
  return tr;
}

/** Listens on a loopback port, prints it, fills its accept queue itself and never accepts. */
const BLACK_HOLE = `
import socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)
port = s.getsockname()[1]
fill = []
for _ in range(3):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(('127.0.0.1', port))
    except BlockingIOError: pass
    fill.append(c)
time.sleep(0.2)
print(port, flush=True)
time.sleep(600)
`;

describe('Elasticsearch hosts', () => {
  it('round-robin over live hosts', async (t) => {
    const a = await startBulkEndpoint();
    const b = await startBulkEndpoint();
    t.after(() => Promise.all([a.close(), b.close()]));
    const tr = transport(t, { hosts: [a.url, b.url] });
    const answered: string[] = [];
    for (let i = 0; i < 6; i++) {
      const result = await tr.request('GET', '/');
      assert.equal(result.kind, 'response');
      answered.push(result.host);
    }
    assert.deepEqual(answered, [a.url, b.url, a.url, b.url, a.url, b.url]);
  });

  it('a host that refuses connections is set aside, probed, and used again once it answers', async (t) => {
    const port = await closedPort();
    const live = await startBulkEndpoint();
    t.after(() => live.close());
    const down: string[] = [];
    const up: string[] = [];
    const tr = new Transport(resolveElasticsearchConfig({ hosts: [`http://127.0.0.1:${port}`, live.url], deadHostRetryMs: 50, retryMaxDelayMs: 100 }, {})!, {
      onDown: (host) => down.push(host),
      onUp: (host) => up.push(host),
    });
    t.after(() => tr.close(true));
    const first = await tr.request('GET', '/');
    assert.equal(first.kind, 'error');
    assert.match(first.kind === 'error' ? first.error : '', /ECONNREFUSED/);
    assert.deepEqual(down, [`http://127.0.0.1:${port}`]);
    for (let i = 0; i < 4; i++) assert.equal((await tr.request('GET', '/')).host, live.url, 'only the live host while the other is down');
    const back = await startBulkEndpoint({ port });
    t.after(() => back.close());
    await tr.hostSet.whenAnyAlive();
    const deadline = Date.now() + 3000;
    while (tr.hostSet.aliveCount() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(up, [`http://127.0.0.1:${port}`], 'the probe brought it back');
    const hosts = new Set<string>();
    for (let i = 0; i < 4; i++) hosts.add((await tr.request('GET', '/')).host);
    assert.equal(hosts.size, 2);
  });

  it('a black-holed host (connect never completes) is set aside after the connect timeout, as unreachable', async (t) => {
    // A loopback listener that never accepts, its queue filled: further SYNs are dropped, so a connect
    // hangs as it does towards a firewalled host. Node's own servers always accept, hence Python.
    const hole = spawn('python3', ['-c', BLACK_HOLE], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => hole.kill());
    const port = await new Promise<number>((resolve, reject) => {
      hole.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      hole.once('error', reject);
    });
    const live = await startBulkEndpoint();
    t.after(() => live.close());
    const down: string[] = [];
    const tr = new Transport(
      resolveElasticsearchConfig({ hosts: [`http://127.0.0.1:${port}`, live.url], connectTimeoutMs: 300, deadHostRetryMs: 60_000 }, {})!,
      {
        onDown: (host) => down.push(host),
      },
    );
    t.after(() => tr.close(true));
    const started = Date.now();
    const first = await tr.request('GET', '/');
    const took = Date.now() - started;
    assert.equal(first.kind, 'error');
    assert.match(first.kind === 'error' ? first.error : '', /ECONNECT_TIMEOUT: connect to 127\.0\.0\.1:\d+ timed out after 300 ms/);
    assert.ok(took >= 280 && took < 3000, `gave up after ${took} ms`);
    assert.deepEqual(down, [`http://127.0.0.1:${port}`], 'one connect timeout sets the host aside');
    for (let i = 0; i < 3; i++) assert.equal((await tr.request('GET', '/')).host, live.url, 'only the live host while the other is down');
  });

  it('credentials: API key and basic auth headers; user info in a URL for that host only', async (t) => {
    const seen: Array<string | undefined> = [];
    const server = (await import('node:http')).createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    await transport(t, { hosts: [url] }, { ELASTICSEARCH_API_KEY: 'abc==' }).request('GET', '/');
    await transport(t, { hosts: [url], auth: { username: 'elastic', password: 'pw' } }).request('GET', '/');
    await transport(t, { hosts: [url.replace('http://', 'http://u%40x:p%3Aw@')], auth: { apiKey: 'ignored' } }).request('GET', '/');
    assert.deepEqual(seen, ['ApiKey abc==', `Basic ${Buffer.from('elastic:pw').toString('base64')}`, `Basic ${Buffer.from('u@x:p:w').toString('base64')}`]);
  });

  it('TLS: verified with the CA file; refused without it, with a hint; off only when said so', async (t) => {
    const openssl = spawnSync('openssl', ['version']);
    if (openssl.status !== 0) {
      t.skip('openssl not installed: cannot make a test certificate');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'lf-tls-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'ca.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(made.status, 0, made.stderr);
    const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'ca.pem')) }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/') res.end(JSON.stringify({ version: { number: '8.15.0' } }));
      else res.end('{"acknowledged":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => server.close(resolve)));
    const url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;

    const withCa = await transport(t, { hosts: [url] }, { ELASTICSEARCH_CA_FILE: join(dir, 'ca.pem') }).request('GET', '/');
    assert.equal(withCa.kind === 'response' && withCa.status, 200);
    const without = await transport(t, { hosts: [url] }).request('GET', '/');
    assert.equal(without.kind, 'error');
    assert.equal(without.kind === 'error' && without.tls, true, without.kind === 'error' ? without.error : '');
    const unverified = await transport(t, { hosts: [url] }, { ELASTICSEARCH_TLS_VERIFY: 'false' }).request('GET', '/');
    assert.equal(unverified.kind === 'response' && unverified.status, 200);

    const sink = new ElasticsearchSink(resolveElasticsearchConfig({ hosts: [url] }, {})!);
    await assert.rejects(sink.start(), /TLS certificate problem with every host .*ELASTICSEARCH_CA_FILE .*ELASTICSEARCH_TLS_VERIFY=false/);
    const good = new ElasticsearchSink(resolveElasticsearchConfig({ hosts: [url], tls: { caFile: join(dir, 'ca.pem') } }, {})!);
    await good.start();
    assert.equal(good.healthy(), true);
    await good.shutdown(100);
  });
});
