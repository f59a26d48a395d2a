/**
 * Losses found by the combined-fault soak, each replayed deterministically against a real Elasticsearch
 * that goes down and comes back (issue 21):
 *   - a rotated file read to its end during an outage, then a shutdown past its deadline: the restart must
 *     read the file's unacknowledged tail (it used to be marked done when read, not when acknowledged);
 *   - files created, and rotated away, while the in-flight budget is full: they must be found and read
 *     once there is room (discovery used to stop while reading waited for budget);
 *   - a pod created and rotated while a shutdown waited for acknowledgements: the restart must look for
 *     rotations since the last look for files, not since the last checkpoint save (found by soak seed 2026).
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { sharedElasticsearch, startPrivateElasticsearch, type PrivateElasticsearch } from '../helpers/elasticsearch.js';
import { sleep, startAgentProcess, type AgentProcess } from '../helpers/agent-process.js';
import { docsForNode, exactlyOnce, markers } from '../helpers/es-docs.js';
import { addContainer, criLine, criTimestamp, rotateByRename, type PodContainer } from '../helpers/log-tree.js';

function criLines(tag: string, from: number, count: number): string {
  let text = '';
  for (let i = from; i < from + count; i++) text += criLine(criTimestamp(Date.now()), 'stdout', 'F', `line seq=${tag}-${i} ${'p'.repeat(40)}`);
  return text;
}

function writeLines(c: PodContainer, tag: string, from: number, count: number): void {
  appendFileSync(c.logPath, criLines(tag, from, count));
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

interface CheckpointEntryView {
  path: string;
  offset: number;
  done?: boolean;
}

function checkpointEntries(dataDir: string): CheckpointEntryView[] {
  try {
    return (JSON.parse(readFileSync(join(dataDir, 'checkpoints.json'), 'utf8')) as { entries: CheckpointEntryView[] }).entries;
  } catch {
    return [];
  }
}

/** Wait until every expected marker is stored, then assert each is stored exactly once. */
async function assertExactlyOnce(url: string, node: string, expected: string[], agent: AgentProcess): Promise<void> {
  let report = exactlyOnce([], expected);
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    report = exactlyOnce(await docsForNode(url, node), expected);
    if (report.missing.length === 0) break;
    await sleep(1000);
  }
  const docs = await docsForNode(url, node);
  assert.deepEqual(report.missing, [], `missing (first 20 of ${expected.length - report.found}): ${agent.stderr().slice(-2000)}`);
  assert.deepEqual(report.duplicated, []);
  assert.equal(docs.length, expected.length);
}

describe('combined faults', () => {
  let root: string;
  let es: PrivateElasticsearch | undefined;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'logferry-cf-'));
  });
  after(async () => {
    await es?.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function privateElasticsearch(t: TestContext): Promise<PrivateElasticsearch | undefined> {
    if (!sharedElasticsearch(t)) return undefined;
    es ??= await startPrivateElasticsearch();
    await es.start();
    return es;
  }

  function config(name: string, pipeline: Record<string, number>): string {
    const path = join(root, `${name}.yaml`);
    const lines = Object.entries(pipeline).map(([key, value]) => `  ${key}: ${value}`);
    writeFileSync(path, ['server:', "  address: ''", 'pipeline:', ...lines, ''].join('\n'));
    return path;
  }

  it('a file rotated and read to its end during an outage, then a shutdown past its deadline: the restart reads its unacknowledged tail', async (t) => {
    const server = await privateElasticsearch(t);
    if (!server) return;
    const node = `node-cf-done-${process.pid}`;
    const tree = join(root, 'done');
    const dataDir = join(root, 'done-data');
    const c = addContainer(tree, 'ns', 'pod-d', 'app', 'cri');
    const args = ['run', '--root', tree, '--data-dir', dataDir, '--config', config('done', { shutdownGraceMs: 1500 })];
    const env = { ELASTICSEARCH_HOSTS: server.url, NODE_NAME: node };
    let agent = startAgentProcess({ args, env });
    try {
      writeLines(c, 'd-a', 0, 2000);
      await until('the first lines stored', async () => (await docsForNode(server.url, node)).length === 2000);
      await server.stop();
      writeLines(c, 'd-b', 0, 3000);
      const rotated = rotateByRename(c);
      writeLines(c, 'd-c', 0, 1000);
      // The rotated file is read to its end and closed while nothing can be acknowledged.
      await until('the rotated file drained', () => checkpointEntries(dataDir).some((e) => e.path === rotated));
      const entry = checkpointEntries(dataDir).find((e) => e.path === rotated)!;
      agent.child.kill('SIGTERM');
      const exit = await agent.exited;
      assert.equal(exit.code, 0, agent.stderr());
      await server.start();
      agent = startAgentProcess({ args, env });
      await assertExactlyOnce(server.url, node, [...markers('d-a', 2000), ...markers('d-b', 3000), ...markers('d-c', 1000)], agent);
      assert.ok(entry.done !== true, `a file whose records were not acknowledged was marked done: ${JSON.stringify(entry)}`);
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exited;
    }
  });

  it('a pod created and rotated while a shutdown waits for acknowledgements: its first file is read after the restart', async (t) => {
    const server = await privateElasticsearch(t);
    if (!server) return;
    const node = `node-cf-shutdown-${process.pid}`;
    const tree = join(root, 'shutdown');
    const dataDir = join(root, 'shutdown-data');
    const busy = addContainer(tree, 'ns', 'pod-busy', 'app', 'cri');
    const args = ['run', '--root', tree, '--data-dir', dataDir, '--config', config('shutdown', { shutdownGraceMs: 60000 })];
    const env = { ELASTICSEARCH_HOSTS: server.url, NODE_NAME: node };
    let agent = startAgentProcess({ args, env });
    try {
      writeLines(busy, 'u-a', 0, 500);
      await until('the first lines stored', async () => (await docsForNode(server.url, node)).length === 500);
      await server.stop();
      writeLines(busy, 'u-b', 0, 500);
      await sleep(1500);
      // The tailer stops at once; the shutdown then waits for Elasticsearch, saving checkpoints as
      // acknowledgements come in, well after the last look for files.
      agent.child.kill('SIGTERM');
      await sleep(1500);
      const late = addContainer(tree, 'ns', 'pod-late', 'app', 'cri');
      writeLines(late, 'l-a', 0, 300);
      rotateByRename(late, 'first');
      writeLines(late, 'l-b', 0, 100);
      await sleep(2000);
      await server.start();
      const exit = await agent.exited;
      assert.equal(exit.code, 0, agent.stderr());
      agent = startAgentProcess({ args, env });
      await assertExactlyOnce(server.url, node, [...markers('u-a', 500), ...markers('u-b', 500), ...markers('l-a', 300), ...markers('l-b', 100)], agent);
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exited;
    }
  });

  it('the runtime writes on to a file it renamed before it reopens its log: those lines are read too', async (t) => {
    const server = await privateElasticsearch(t);
    if (!server) return;
    const node = `node-cf-late-${process.pid}`;
    const tree = join(root, 'late');
    const dataDir = join(root, 'late-data');
    const c = addContainer(tree, 'ns', 'pod-late-write', 'app', 'cri');
    const agent = startAgentProcess({
      args: ['run', '--root', tree, '--data-dir', dataDir, '--config', config('late', { rescanIntervalMs: 2000 })],
      env: { ELASTICSEARCH_HOSTS: server.url, NODE_NAME: node },
    });
    try {
      writeLines(c, 'w-a', 0, 300);
      await until('the first lines stored', async () => (await docsForNode(server.url, node)).length === 300);
      // containerd's order: the kubelet renames, the runtime writes on through its open descriptor, then
      // reopens 0.log when asked. The agent notices the rename (within a second) before the late write.
      const rotated = `${c.logPath}.20261203T000000`;
      renameSync(c.logPath, rotated);
      await sleep(3000);
      appendFileSync(rotated, criLines('w-b', 0, 200));
      writeFileSync(c.logPath, '');
      writeLines(c, 'w-c', 0, 100);
      await assertExactlyOnce(server.url, node, [...markers('w-a', 300), ...markers('w-b', 200), ...markers('w-c', 100)], agent);
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exited;
    }
  });

  it('files created and rotated away while the in-flight budget is full: found meanwhile, read once there is room', async (t) => {
    const server = await privateElasticsearch(t);
    if (!server) return;
    const node = `node-cf-budget-${process.pid}`;
    const tree = join(root, 'budget');
    const dataDir = join(root, 'budget-data');
    const busy = addContainer(tree, 'ns', 'pod-busy', 'app', 'cri');
    const args = [
      'run',
      '--root',
      tree,
      '--data-dir',
      dataDir,
      '--config',
      config('budget', { maxInflightBytes: 65536, readChunkBytes: 4096, rescanIntervalMs: 500 }),
    ];
    const agent = startAgentProcess({ args, env: { ELASTICSEARCH_HOSTS: server.url, NODE_NAME: node } });
    try {
      writeLines(busy, 'b-a', 0, 500);
      await until('the first lines stored', async () => (await docsForNode(server.url, node)).length === 500);
      await server.stop();
      // ~300 KB against a 64 KiB budget: reading stops until Elasticsearch is back.
      writeLines(busy, 'b-b', 0, 3000);
      await sleep(2000);
      // Created, written and rotated away between two looks.
      const quick = addContainer(tree, 'ns', 'pod-quick', 'app', 'cri');
      writeLines(quick, 'q-a', 0, 500);
      rotateByRename(quick, 'first');
      writeLines(quick, 'q-b', 0, 200);
      // Created, seen while the budget is full, then rotated away.
      const slow = addContainer(tree, 'ns', 'pod-slow', 'app', 'cri');
      writeLines(slow, 's-a', 0, 300);
      await sleep(2000);
      rotateByRename(slow, 'first');
      writeLines(slow, 's-b', 0, 100);
      await sleep(2000);
      await server.start();
      const expected = [
        ...markers('b-a', 500),
        ...markers('b-b', 3000),
        ...markers('q-a', 500),
        ...markers('q-b', 200),
        ...markers('s-a', 300),
        ...markers('s-b', 100),
      ];
      await assertExactlyOnce(server.url, node, expected, agent);
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exited;
    }
  });
});
