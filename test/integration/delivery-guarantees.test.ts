/**
 * Issue 3's hard cases, each ending with "every line exactly once": kill -9 at random points, an
 * Elasticsearch outage with rotations meanwhile, rotation by rename and by copytruncate under a writer
 * running at thousands of lines per second.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { sharedElasticsearch, startPrivateElasticsearch } from '../helpers/elasticsearch.js';
import { runAgent, sleep, startAgentProcess } from '../helpers/agent-process.js';
import { docsForNode, exactlyOnce, markers } from '../helpers/es-docs.js';
import { addContainer } from '../helpers/log-tree.js';

const WRITER = fileURLToPath(new URL('../helpers/writer-process.js', import.meta.url));

function startWriter(path: string, count: number, rate: number, format: string, rotate: string, every: number, tag: string) {
  const child = spawn(process.execPath, [WRITER, path, String(count), String(rate), format, rotate, String(every), tag], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise<{ written: number; rotations: number }>((resolve, reject) => {
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`writer exited ${code}`))));
  });
}

async function waitForFile(path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await sleep(20);
  }
}

describe('delivery guarantees', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'logferry-dg-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('kill -9 at random points, 10 times, while shipping: every line exactly once', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const node = `node-kill-${process.pid}`;
    const tree = join(root, 'kill');
    const containers = [
      addContainer(tree, 'ns', 'pod-a', 'app', 'cri'),
      addContainer(tree, 'ns', 'pod-b', 'app', 'cri'),
      addContainer(tree, 'ns', 'pod-c', 'app', 'cri'),
    ];
    const perContainer = 20_000;
    const writers = containers.map((c, i) => startWriter(c.logPath, perContainer, 4000, 'cri', 'rename', 7000, `k${i}`));
    const dataDir = join(root, 'kill-data');
    const env = { ELASTICSEARCH_HOSTS: url, NODE_NAME: node };
    let kills = 0;
    while (kills < 10) {
      const agent = startAgentProcess({ args: ['run', '--root', tree, '--data-dir', dataDir], env });
      // The first life must get as far as recording that the agent began (its first checkpoint save): on a
      // loaded machine all ten could otherwise die while still loading code, and the final run would be a
      // genuine first start, which reads the current files and not the ones rotated before it (by design).
      if (kills === 0) await waitForFile(join(dataDir, 'checkpoints.json'), 60_000);
      await sleep(300 + Math.floor(Math.random() * 900));
      agent.child.kill('SIGKILL');
      await agent.exited;
      kills++;
    }
    await Promise.all(writers);
    const final = await runAgent({ args: ['run', '--root', tree, '--data-dir', dataDir, '--oneshot'], env });
    assert.equal(final.code, 0, final.stderr);
    const expected = containers.flatMap((_, i) => markers(`k${i}`, perContainer));
    const docs = await docsForNode(url, node);
    const report = exactlyOnce(docs, expected);
    assert.equal(kills, 10);
    assert.deepEqual(report.missing, [], `${report.missingCount} missing; the first 20 are shown`);
    assert.deepEqual(report.duplicated, []);
    assert.equal(docs.length, expected.length);
  });

  it('Elasticsearch down while files rotate twice: every line once after it returns, memory bounded', async (t) => {
    if (!sharedElasticsearch(t)) return;
    const es = await startPrivateElasticsearch();
    t.after(() => es.close());
    const node = `node-outage-${process.pid}`;
    const tree = join(root, 'outage');
    const c = addContainer(tree, 'ns', 'pod-o', 'app', 'cri');
    const dataDir = join(root, 'outage-data');
    const agent = startAgentProcess({
      args: ['run', '--root', tree, '--data-dir', dataDir],
      env: { ELASTICSEARCH_HOSTS: es.url, NODE_NAME: node },
    });
    try {
      await startWriter(c.logPath, 5000, 5000, 'cri', 'none', 0, 'o-a');
      await sleep(2000);
      await es.stop();
      // During the outage: 60,000 lines and two rotations by rename.
      const writing = startWriter(c.logPath, 60_000, 6000, 'cri', 'rename', 25_000, 'o-b');
      const rss: number[] = [];
      while (rss.length < 40) {
        await sleep(300);
        const sample = agent.sampleRss();
        if (sample) rss.push(sample);
      }
      const { rotations } = await writing;
      assert.equal(rotations, 2);
      await es.start();
      const expected = [...markers('o-a', 5000), ...markers('o-b', 60_000)];
      let report = exactlyOnce([], expected);
      for (let i = 0; i < 120; i++) {
        await sleep(1000);
        report = exactlyOnce(await docsForNode(es.url, node), expected);
        if (report.missing.length === 0) break;
      }
      assert.deepEqual(report.missing, []);
      assert.deepEqual(report.duplicated, []);
      const peak = Math.max(...rss);
      t.diagnostic(`agent RSS during outage: peak ${(peak / 1048576).toFixed(1)} MiB`);
      assert.ok(peak < 200 * 1048576, `RSS ${peak}`);
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exited;
    }
  });

  for (const mode of ['rename', 'copytruncate'] as const) {
    it(`rotation by ${mode} under continuous writing: nothing lost, nothing doubled`, async (t) => {
      const url = sharedElasticsearch(t);
      if (!url) return;
      const node = `node-${mode}-${process.pid}`;
      const tree = join(root, mode);
      let path: string;
      let args: string[];
      if (mode === 'rename') {
        path = addContainer(tree, 'ns', 'pod-w', 'app', 'cri').logPath;
        args = ['run', '--root', tree];
      } else {
        // logrotate's copytruncate is how component logs rotate.
        mkdirSync(join(tree, 'var/log'), { recursive: true });
        path = join(tree, 'var/log/kubelet.log');
        args = ['run', '--root', tree];
      }
      const dataDir = join(root, `${mode}-data`);
      const env = { ELASTICSEARCH_HOSTS: url, NODE_NAME: node };
      const agent = startAgentProcess({ args: [...args, '--data-dir', dataDir], env });
      const count = 40_000;
      const result = await startWriter(path, count, 5000, mode === 'rename' ? 'cri' : 'glog', mode, 8000, `w${mode}`);
      assert.equal(result.rotations, 5);
      const expected = markers(`w${mode}`, count);
      let report = exactlyOnce([], expected);
      for (let i = 0; i < 60; i++) {
        await sleep(1000);
        report = exactlyOnce(await docsForNode(url, node), expected);
        if (report.missing.length === 0) break;
      }
      agent.child.kill('SIGTERM');
      const exit = await agent.exited;
      assert.deepEqual(report.missing, [], agent.stderr());
      assert.deepEqual(report.duplicated, []);
      assert.equal(exit.code, 0, agent.stderr());
      if (mode === 'copytruncate') {
        // Component log fields, from the glog header and the file the line came from.
        const doc = (await docsForNode(url, node)).find((d) => /seq=wcopytruncate-123$/.test(d._source.message))!._source;
        assert.equal(doc.service.name, 'kubelet');
        assert.equal(doc.log.level, 'info');
        assert.equal(doc.log.origin.file.name, 'writer.go');
        assert.equal(doc.log.origin.file.line, (123 % 900) + 10);
        assert.equal(doc.process.thread.id, 1234);
        assert.equal(doc.log.file.path, '/var/log/kubelet.log');
      }
    });
  }
});
