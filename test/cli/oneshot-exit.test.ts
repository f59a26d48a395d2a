/**
 * `logferry run --oneshot` says how the run went in one last line and exits 1 when it could not do all that
 * was asked (issue 13, item 6): an --input glob that matched nothing, a file that could not be opened, a
 * binary file skipped, records without metadata because the API server answered 403, an output that never
 * answered (given up on after --output-timeout instead of hanging). Exit 0 only when everything was done.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runAgent } from '../helpers/agent-process.js';
import { addContainer, append, criLine, criTimestamp } from '../helpers/log-tree.js';

function summaryLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  const last = lines[lines.length - 1] ?? '';
  assert.match(last, /^logferry: oneshot (complete|incomplete)/, `the last line is the summary:\n${stderr}`);
  return last;
}

describe('logferry run --oneshot: summary line and exit code', () => {
  let dir: string;
  let config: string;
  let n = 0;
  const run = (args: string[], env: Record<string, string> = {}, configFile = config, timeoutMs = 30_000) =>
    runAgent({ args: ['run', '--oneshot', '--config', configFile, '--data-dir', join(dir, `data-${++n}`), ...args], env, timeoutMs });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-oneshot-exit-'));
    config = join(dir, 'logferry.yaml');
    writeFileSync(config, 'server:\n  address: ""\n');
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'app.log'), 'first line\nsecond line\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('everything read and stored: exit 0 with a summary line', async () => {
    const result = await run(['--input', join(dir, 'logs', 'app.log')]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      summaryLine(result.stderr),
      /^logferry: oneshot complete: stored 2, .*dead-lettered 0, failed 0, files read 1, files skipped 0, files unreadable 0, without metadata 0/,
    );
  });

  it('an --input glob that matched no file: exit 1, naming the glob', async () => {
    const missing = join(dir, 'nowhere', '*.log');
    const literal = join(dir, 'logs', 'typo.log');
    const result = await run(['--input', join(dir, 'logs', 'app.log'), '--input', missing, '--input', literal]);
    assert.equal(result.code, 1, result.stderr);
    const line = summaryLine(result.stderr);
    assert.ok(line.includes(`--input ${missing} matched no file`), line);
    assert.ok(line.includes(`--input ${literal} matched no file`), line);
    assert.match(line, /stored 2,/);
  });

  it('the default inputs under a --root without any log file: exit 1', async () => {
    const empty = join(dir, 'empty-root');
    mkdirSync(empty);
    const result = await run(['--root', empty]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(summaryLine(result.stderr), /no input file found \(check --root and the inputs configured\)/);
  });

  it('a file that cannot be opened: exit 1, naming it', async () => {
    const loop = join(dir, 'logs-loop');
    mkdirSync(loop);
    writeFileSync(join(loop, 'ok.log'), 'fine\n');
    symlinkSync('looped.log', join(loop, 'looped.log')); // ELOOP, even for root
    const result = await run(['--input', join(loop, '*.log')]);
    assert.equal(result.code, 1, result.stderr);
    const line = summaryLine(result.stderr);
    assert.ok(line.includes(`1 file could not be opened (${join(loop, 'looped.log')}`), line);
    assert.match(line, /stored 1,.*files unreadable 1/);
  });

  it('a binary file skipped: exit 1, the text files still stored', async () => {
    const mixed = join(dir, 'logs-mixed');
    mkdirSync(mixed);
    writeFileSync(join(mixed, 'ok.log'), 'fine\n');
    const binary = Buffer.alloc(4096);
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 7919) % 256;
    binary[100] = 10;
    writeFileSync(join(mixed, 'core.log'), binary);
    const result = await run(['--input', join(mixed, '*.log')]);
    assert.equal(result.code, 1, result.stderr);
    const line = summaryLine(result.stderr);
    assert.ok(line.includes(`1 file skipped as not UTF-8 text (${join(mixed, 'core.log')}: looks binary`), line);
    assert.match(line, /stored 1,.*files skipped 1/);
  });

  describe('the API server answers 403 to everything', () => {
    let api: Server;
    let apiUrl: string;
    before(async () => {
      api = createServer((_req, res) => {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            reason: 'Forbidden',
            code: 403,
            message: 'pods is forbidden: User "system:anonymous" cannot list resource "pods"',
          }),
        );
      });
      await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
      apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => api.close(() => resolve())));

    it('records shipped without pod metadata: exit 1, saying why', async () => {
      const root = join(dir, 'node-root');
      const container = addContainer(root, 'shop', 'web-1', 'app');
      append(container, criLine(criTimestamp(Date.now()), 'stdout', 'F', 'hello') + criLine(criTimestamp(Date.now()), 'stdout', 'F', 'world'));
      const kubeConfig = join(dir, 'kube.yaml');
      writeFileSync(
        kubeConfig,
        [
          'server:',
          '  address: ""',
          'kubernetes:',
          `  apiServer: ${apiUrl}`,
          '  nodeName: node-a',
          '  startTimeoutMs: 500',
          '  waitForPodMs: 200',
          '  backoff:',
          '    minMs: 100',
          '    maxMs: 200',
          '',
        ].join('\n'),
      );
      const result = await run(['--root', root], { NODE_NAME: 'node-a' }, kubeConfig);
      assert.equal(result.code, 1, result.stderr);
      const line = summaryLine(result.stderr);
      assert.match(line, /2 records without Kubernetes metadata: the API server never listed this node's pods \(.*403/, line);
      assert.match(line, /stored 2,.*without metadata 2/);
    });
  });

  it('an unreachable Elasticsearch: gives up after --output-timeout with exit 1 and a clear line (no hang)', async () => {
    const started = Date.now();
    const result = await run(
      ['--input', join(dir, 'logs', 'app.log'), '--output-timeout', '3s'],
      { ELASTICSEARCH_HOSTS: 'http://127.0.0.1:1' },
      config,
      20_000,
    );
    assert.equal(result.code, 1, `exit code (killed after 20 s if it hangs): ${result.stderr}`);
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
    const line = summaryLine(result.stderr);
    assert.match(line, /gave up: output elasticsearch http:\/\/127\.0\.0\.1:1 unavailable for 3s \(--output-timeout 3s\): .*ECONNREFUSED/, line);
    assert.match(line, /stored 0,/);
  });

  it('--output-timeout that is not a duration: exit 2', async () => {
    const bad = await run(['--input', join(dir, 'logs', 'app.log'), '--output-timeout', 'soon']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--output-timeout: expected a duration/);
  });
});
