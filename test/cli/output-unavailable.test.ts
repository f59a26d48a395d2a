/**
 * The running agent does not go quiet while its output is down (issue 13, item 6): it reports the output
 * periodically (URL, reason, bytes behind) until it answers, then says once that it is back; and a
 * shutdown that waits for acknowledgements says so, for how long, and what happens at the deadline.
 *
 * "Unreachable" is a closed localhost port; "back" is a TCP proxy opened on that port to the test
 * Elasticsearch (LOGFERRY_TEST_ES_URL).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sleep, startAgentProcess } from '../helpers/agent-process.js';
import { sharedElasticsearch } from '../helpers/elasticsearch.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Forwards 127.0.0.1:port to the Elasticsearch at `target`. */
async function proxy(port: number, target: URL): Promise<Server> {
  const server = createServer((socket) => {
    const upstream = connect(Number(target.port), target.hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number, output: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}; stderr:\n${output()}`);
    await sleep(100);
  }
}

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

function logLines(stderr: string): LogLine[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

describe('an output that stays unavailable, and a shutdown that waits', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-output-down-'));
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'app.log'), 'one\ntwo\nthree\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reported every interval with URL, reason and bytes behind until it answers, then once "answers again"', async (t) => {
    const esUrl = sharedElasticsearch(t);
    if (esUrl === undefined) return;
    const port = await freePort();
    const target = `http://127.0.0.1:${port}`;
    const config = join(dir, 'report.yaml');
    writeFileSync(
      config,
      ['server:', '  address: ""', 'pipeline:', '  outputReportIntervalMs: 1000', 'output:', '  elasticsearch:', `    index: lf-unavailable-${port}`, ''].join(
        '\n',
      ),
    );
    const agent = startAgentProcess({
      args: ['run', '--config', config, '--data-dir', join(dir, 'data-report'), '--input', join(dir, 'logs', '*.log')],
      env: { ELASTICSEARCH_HOSTS: target, LOGFERRY_LOG_LEVEL: 'info' },
    });
    let up: Server | undefined;
    try {
      const reports = () => logLines(agent.stderr()).filter((l) => l.msg.startsWith(`output elasticsearch ${target} unavailable for`));
      await waitFor('two periodic reports', () => reports().length >= 2, 15_000, agent.stderr);
      for (const report of reports()) {
        assert.equal(report.level, 40, 'a warning');
        assert.equal(report.target, target);
        assert.match(String(report.reason), /ECONNREFUSED/);
        assert.match(report.msg, /records wait in the files \(\d+ bytes behind\)/);
        assert.equal(report.bytesBehind, 14);
      }
      up = await proxy(port, new URL(esUrl));
      const back = () => logLines(agent.stderr()).filter((l) => l.msg.startsWith(`output elasticsearch ${target} answers again after`));
      await waitFor('"answers again"', () => back().length === 1, 30_000, agent.stderr);
      const count = reports().length;
      await sleep(2500);
      assert.equal(reports().length, count, 'no report once it answers');
      assert.equal(back().length, 1, 'said once');
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exited;
      await new Promise<void>((resolve) => (up ? up.close(() => resolve()) : resolve()));
    }
  });

  it('a shutdown with records not acknowledged says it waits, how long, and what happens at the deadline', async () => {
    const port = await freePort();
    const config = join(dir, 'grace.yaml');
    writeFileSync(config, ['server:', '  address: ""', 'pipeline:', '  shutdownGraceMs: 2000', ''].join('\n'));
    const agent = startAgentProcess({
      args: ['run', '--config', config, '--data-dir', join(dir, 'data-grace'), '--input', join(dir, 'logs', '*.log')],
      env: { ELASTICSEARCH_HOSTS: `http://127.0.0.1:${port}`, LOGFERRY_LOG_LEVEL: 'info' },
    });
    await waitFor('the agent to start', () => agent.stderr().includes('logferry agent started'), 15_000, agent.stderr);
    await sleep(1000); // the file is read; nothing can be acknowledged
    const signalled = Date.now();
    agent.child.kill('SIGTERM');
    await agent.exited;
    const elapsed = Date.now() - signalled;
    const lines = logLines(agent.stderr());
    const waiting = lines.find((l) => l.msg.startsWith('shutting down: waiting up to 2s for elasticsearch to acknowledge what was read'));
    assert.ok(waiting, agent.stderr());
    assert.match(waiting.msg, /\(it is unavailable now\); what is not acknowledged by then is read again at the next start/);
    assert.equal(waiting.graceMs, 2000);
    assert.equal(waiting.bytesUnacknowledged, 14);
    const ranOut = lines.find((l) => l.msg.startsWith('shutdown grace of 2s ran out before elasticsearch acknowledged everything'));
    assert.ok(ranOut, agent.stderr());
    assert.ok(lines.indexOf(waiting) < lines.indexOf(ranOut));
    assert.ok(elapsed >= 1500 && elapsed < 10_000, `stopped after ${elapsed} ms`);
  });
});
