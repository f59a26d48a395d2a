/**
 * Issue 13, item 3: journalctl exiting must not end the journald input. The stand-in journalctl
 * (test/fixtures/bin/journalctl) prints two entries and exits, every time; later it is killed -9 and then
 * cannot read the journal for a while. The agent restarts it after the last entry read (--after-cursor),
 * ships every entry exactly once, and shows it: logferry_journald_restarts_total, logferry_journald_up,
 * and /readyz not ready while journalctl stays down.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { sharedElasticsearch } from '../helpers/elasticsearch.js';
import { sleep, startAgentProcess } from '../helpers/agent-process.js';
import { docsForNode } from '../helpers/es-docs.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const UNITS = ['kubelet.service', 'containerd.service', 'docker.service'];
const cursorOf = (i: number) => `s=restart;i=${i};b=1;m=${i};t=${i};x=${i}`;
const entryLine = (i: number) =>
  JSON.stringify({
    __CURSOR: cursorOf(i),
    __REALTIME_TIMESTAMP: String(1795600000000000 + i * 1000),
    PRIORITY: '6',
    _SYSTEMD_UNIT: UNITS[i % 3],
    MESSAGE: `journal seq=${i}`,
  }) + '\n';

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, diagnostics: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${diagnostics()}`);
    await sleep(100);
  }
}

describe('journald input when journalctl exits', () => {
  it('restarts journalctl from the cursor, ships later entries exactly once, and shows it in metrics and /readyz', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const dir = mkdtempSync(join(tmpdir(), 'lf-journal-restart-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const node = `node-journal-restart-${process.pid}-${Date.now()}`;
    const journal = join(dir, 'journal.jsonl');
    writeFileSync(journal, [1, 2, 3, 4, 5].map(entryLine).join(''));
    const argsLog = join(dir, 'args.log');
    const pidFile = join(dir, 'journalctl.pid');
    const downFile = join(dir, 'journal-down');
    const config = join(dir, 'logferry.yaml');
    writeFileSync(
      config,
      'server:\n  address: 127.0.0.1:0\ninputs:\n  containers:\n    enabled: false\n  components:\n    enabled: false\n  journald:\n    enabled: true\n',
    );
    const agent = startAgentProcess({
      args: ['run', '--root', dir, '--data-dir', join(dir, 'data'), '--config', config],
      env: {
        ELASTICSEARCH_HOSTS: url,
        NODE_NAME: node,
        LOGFERRY_LOG_LEVEL: 'info',
        PATH: `${join(FIXTURES, 'bin')}:${process.env.PATH}`,
        JOURNAL_FIXTURE: journal,
        JOURNAL_ARGS_LOG: argsLog,
        JOURNAL_EXIT_AFTER: '2',
        JOURNAL_PID_FILE: pidFile,
        JOURNAL_DOWN_FILE: downFile,
      },
    });
    t.after(async () => {
      agent.child.kill('SIGKILL');
      await agent.exited;
    });
    const logs = () => agent.stderr();
    const port = await until(
      'the endpoint',
      () => {
        const started = logs()
          .split('\n')
          .find((l) => l.includes('logferry agent started'));
        return started ? (JSON.parse(started).metricsPort as number) : undefined;
      },
      10_000,
      logs,
    );
    const metric = async (name: string) => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
    };
    const readyz = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      return { status: response.status, body: await response.text() };
    };
    const shipped = async (n: number) => {
      const docs = await docsForNode(url, node);
      return docs.length >= n ? docs : undefined;
    };
    const calls = () =>
      readFileSync(argsLog, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as string[]);
    const afterCursor = (args: string[]) => args.find((a) => a.startsWith('--after-cursor='))?.slice('--after-cursor='.length);

    // 1. journalctl prints 2 entries and exits, twice; the third one reaches the end and follows.
    await until('5 entries in Elasticsearch', () => shipped(5), 30_000, logs);
    assert.deepEqual(calls().map(afterCursor), [undefined, cursorOf(2), cursorOf(4)], 'each restart resumes after the last entry read');
    await until('journalctl up', async () => ((await metric('logferry_journald_up')) === 1 ? true : undefined), 10_000, logs);
    assert.equal(await metric('logferry_journald_restarts_total'), 2);
    assert.equal(await metric('logferry_journald_records_read_total'), 5);
    assert.equal((await readyz()).status, 200);
    const crashLines = logs()
      .split('\n')
      .filter((l) => l.includes('journald input: '));
    assert.equal(crashLines.length, 2, logs());
    for (const line of crashLines) {
      const entry = JSON.parse(line);
      assert.match(entry.msg, /journalctl exited with code 1 \(simulated crash\); restarting it in \d+\.\d s/);
      assert.match(entry.command, /journalctl -o json .*--follow/, 'the line names the command');
    }

    // 2. journalctl is killed -9 and then cannot read the journal: the agent keeps retrying with backoff
    //    and /readyz says why it is not ready.
    writeFileSync(downFile, '');
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    const notReady = await until(
      '/readyz 503',
      async () => {
        const r = await readyz();
        return r.status === 503 && r.body.includes('Input/output error') ? r.body : undefined;
      },
      30_000,
      logs,
    );
    assert.match(notReady, /journald input: journalctl not running for \d+\.\d s, \d+ restarts: .*Input\/output error/);
    assert.equal(await metric('logferry_journald_up'), 0);
    assert.ok((await metric('logferry_journald_restarts_total')) >= 3);

    // 3. The journal is readable again, with new entries: shipped once, ready again.
    appendFileSync(journal, [6, 7, 8].map(entryLine).join(''));
    unlinkSync(downFile);
    const docs = await until('8 entries in Elasticsearch', () => shipped(8), 60_000, logs);
    await until('/readyz 200', async () => ((await readyz()).status === 200 ? true : undefined), 10_000, logs);
    // Every start during the outage asked for what follows entry 5; the one that came back printed 6 and 7
    // and exited (it still crashes after 2), and the next one resumed after 7.
    const resumedAfter = calls().map(afterCursor);
    assert.deepEqual([...new Set(resumedAfter)], [undefined, cursorOf(2), cursorOf(4), cursorOf(5), cursorOf(7)]);
    assert.ok(resumedAfter.filter((c) => c === cursorOf(5)).length >= 2, 'restarted more than once during the outage');
    const seqs = docs.map((d) => Number(/seq=(\d+)/.exec(d._source.message)![1])).sort((a, b) => a - b);
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(await metric('logferry_journald_records_read_total'), 8, 'no entry read twice');
    assert.equal(await metric('logferry_records_in_total'), 8);
    await until('all stored', async () => ((await metric('logferry_sink_records_stored_total')) === 8 ? true : undefined), 10_000, logs);
    assert.equal(await metric('logferry_sink_records_duplicate_total'), 0, 'nothing sent twice');
    assert.equal(await metric('logferry_journald_up'), 1);
    // One line for the outage, not one per failed start. (A start that runs for a second counts as a
    // recovery, which the stand-in, a node script, can do on a loaded machine: hence "fewer", not "one".)
    const outageLines = logs()
      .split('\n')
      .filter((l) => l.includes('Input/output error'));
    const failedStarts = resumedAfter.filter((c) => c === cursorOf(5)).length - 1;
    assert.ok(outageLines.length >= 1 && outageLines.length < failedStarts, `${failedStarts} failed starts:\n${outageLines.join('\n')}`);
    assert.doesNotMatch(logs(), /\n\s+at /, 'no stack traces');

    agent.child.kill('SIGTERM');
    assert.equal((await agent.exited).code, 0, logs());
  });
});
