/**
 * Issue 15: the delivery guarantees on every server users ship to, in both target modes. Per server kind,
 * one node of its own and two agents (the real binary) at once — one writing daily indices, one a data
 * stream — each behind a small proxy, through one compact scenario that ends with "every line exactly once":
 *   1. lines flow;
 *   2. a 429 storm: every other document of each bulk answered 429 (partial bulks), then whole bulks 429;
 *   3. bulks stored but never answered, then kill -9 (the restart replays them: stored, not acknowledged);
 *   4. the data stream is rolled over (`_rollover`) before the restart, so replays go to a new backing index;
 *   5. the node is stopped (an outage), lines are written, the agents restart, then the node comes back.
 * And, on the run's shared server (else the first kind), the same agent across UTC midnight: lines without a time of their own (stamped
 * with their read time), stored, unacknowledged, killed; the restart runs "after midnight" (the agent's
 * read clock moved by LOGFERRY_CLOCK_OFFSET_MS) and must not store them again in the next day's index.
 *
 * Kinds: LOGFERRY_TEST_ES_MATRIX (comma-separated, or `all`: what CI runs, .ci/run); default Elasticsearch 8.19
 * and OpenSearch 2.19. 7.10 OSS has no data streams: it runs the daily-index lane only. Each kind costs its
 * node's start and one restart (10-25 s each on 2 busy cores) plus ~30-40 s of scenario: ~5-6 min for all five.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { esRequest, refresh } from '../helpers/elasticsearch.js';
import { docsForNode, exactlyOnce, markers, type ShippedDoc } from '../helpers/es-docs.js';
import { startEsProxy, type EsProxy } from '../helpers/es-proxy.js';
import { serverKinds, serverOfKind } from '../helpers/es-servers.js';
import { sleep, startAgentProcess, type AgentProcess } from '../helpers/agent-process.js';
import { addContainer, criLine, criTimestamp, type PodContainer } from '../helpers/log-tree.js';

const kinds = await serverKinds('LOGFERRY_TEST_ES_MATRIX', ['es-8.19', 'opensearch-2.19']);
const PHASE = 800;

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000, lane?: Lane): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lane?.agent ? `; agent: ${lane.agent.stderr().slice(-1500)}` : ''}`);
    await sleep(200);
  }
}

function writeLines(c: PodContainer, tag: string, count: number): string[] {
  let text = '';
  for (let i = 0; i < count; i++) text += criLine(criTimestamp(Date.now()), 'stdout', 'F', `line seq=${tag}-${i} ${'m'.repeat(60)}`);
  appendFileSync(c.logPath, text);
  return markers(tag, count);
}

interface Lane {
  mode: 'daily' | 'dataStream';
  node: string;
  target: string;
  proxy: EsProxy;
  tree: string;
  dataDir: string;
  config: string;
  container: PodContainer;
  expected: string[];
  agent?: AgentProcess;
}

function agentConfig(path: string, proxyUrl: string, target: Record<string, string>): void {
  const lines = [
    'server:',
    "  address: ''",
    'output:',
    '  elasticsearch:',
    `    hosts: [${JSON.stringify(proxyUrl)}]`,
    ...Object.entries(target).map(([k, v]) => `    ${k}: ${v}`),
    '    flushIntervalMs: 200',
    '    retryInitialDelayMs: 100',
    '    retryMaxDelayMs: 1000',
    '    deadHostRetryMs: 250',
    '    requestTimeoutMs: 4000',
    '',
  ];
  writeFileSync(path, lines.join('\n'));
}

function startAgent(lane: Lane, env: Record<string, string> = {}): AgentProcess {
  lane.agent = startAgentProcess({
    args: ['run', '--root', lane.tree, '--data-dir', lane.dataDir, '--config', lane.config],
    env: { NODE_NAME: lane.node, ...env },
  });
  return lane.agent;
}

async function stored(url: string, lane: Lane): Promise<ShippedDoc[]> {
  return docsForNode(url, lane.node, lane.target);
}

describe('delivery matrix: kill -9, outage, 429 storm, rollover — every line exactly once', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'logferry-matrix-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const kind of kinds) {
    it(kind, { timeout: 240_000 }, async (t) => {
      const server = await serverOfKind(t, kind, { privateNode: true });
      if (!server) return;
      const started = Date.now();
      const tag = `${kind.replace(/[^a-z0-9]/g, '')}${process.pid}`;
      const lanes: Lane[] = [];
      for (const mode of kind === 'es-7.10' ? (['daily'] as const) : (['daily', 'dataStream'] as const)) {
        const proxy = await startEsProxy({ upstream: server.url });
        t.after(() => proxy.close());
        const tree = join(root, `${tag}-${mode}`);
        const target = mode === 'daily' ? `matrix${tag}` : `logs-matrix.${tag}-default`;
        const config = join(root, `${tag}-${mode}.yaml`);
        agentConfig(config, proxy.url, mode === 'daily' ? { index: target } : { dataStream: target });
        lanes.push({
          mode,
          node: `node-matrix-${tag}-${mode}`,
          target: mode === 'daily' ? `${target}-*` : target,
          proxy,
          tree,
          dataDir: join(root, `${tag}-${mode}-data`),
          config,
          container: addContainer(tree, 'ns', `pod-${mode.toLowerCase()}`, 'app', 'cri'),
          expected: [],
        });
      }
      const all = (f: (lane: Lane) => Promise<unknown> | unknown) => Promise.all(lanes.map(f));
      try {
        // 1. Lines flow.
        await all((lane) => {
          startAgent(lane);
          lane.expected.push(...writeLines(lane.container, `${lane.mode}-a`, PHASE));
        });
        await all((lane) => until(`${lane.mode}: first lines stored`, async () => (await stored(server.url, lane)).length === PHASE, 60_000, lane));

        // 2. A 429 storm: partial bulks, then whole bulks refused.
        await all((lane) => {
          lane.proxy.mode = 'items429';
          lane.expected.push(...writeLines(lane.container, `${lane.mode}-b`, PHASE));
        });
        await all((lane) => until(`${lane.mode}: partial bulks`, () => lane.proxy.counts.items429 >= 3, 60_000, lane));
        await all((lane) => {
          lane.proxy.mode = 'reject429';
          lane.expected.push(...writeLines(lane.container, `${lane.mode}-c`, PHASE));
        });
        await all((lane) => until(`${lane.mode}: refused bulks`, () => lane.proxy.counts.reject429 >= 3, 60_000, lane));

        // 3. Stored, never answered; kill -9.
        await all((lane) => {
          lane.proxy.mode = 'blackhole';
          lane.expected.push(...writeLines(lane.container, `${lane.mode}-d`, PHASE));
        });
        await all((lane) => until(`${lane.mode}: a bulk stored and unanswered`, () => lane.proxy.counts.unanswered >= 1, 60_000, lane));
        await sleep(500);
        await all(async (lane) => {
          lane.agent!.child.kill('SIGKILL');
          await lane.agent!.exited;
          lane.proxy.mode = 'pass';
        });

        // 4. The data stream rolls over before the restart.
        for (const lane of lanes.filter((l) => l.mode === 'dataStream')) {
          await esRequest(server.url, 'POST', `/${lane.target}/_rollover`);
        }

        // 5. An outage: the node stops; lines are written; the agents restart; the node comes back.
        await server.stop();
        await all((lane) => {
          lane.expected.push(...writeLines(lane.container, `${lane.mode}-e`, PHASE));
          startAgent(lane);
        });
        await sleep(2000);
        await server.start();

        await all(async (lane) => {
          let report = exactlyOnce([], lane.expected);
          await until(
            `${lane.mode}: every line stored`,
            async () => {
              report = exactlyOnce(await stored(server.url, lane), lane.expected);
              return report.missing.length === 0;
            },
            90_000,
          ).catch((error: Error) => {
            throw new Error(`${error.message}: missing ${JSON.stringify(report.missing)}; agent: ${lane.agent!.stderr().slice(-1500)}`);
          });
        });
        await sleep(500); // anything still in flight would show as a duplicate now
        await all(async (lane) => {
          lane.agent!.child.kill('SIGTERM');
          const exit = await lane.agent!.exited;
          assert.equal(exit.code, 0, lane.agent!.stderr());
        });
        for (const lane of lanes) {
          const docs = await stored(server.url, lane);
          const report = exactlyOnce(docs, lane.expected);
          assert.deepEqual(report.missing, [], `${kind} ${lane.mode}: missing`);
          assert.deepEqual(report.duplicated, [], `${kind} ${lane.mode}: duplicated`);
          assert.equal(docs.length, lane.expected.length, `${kind} ${lane.mode}: documents`);
          assert.equal(new Set(docs.map((d) => d._id)).size, docs.length);
          const indices = [...new Set(docs.map((d) => d._index))];
          if (lane.mode === 'dataStream') assert.equal(indices.length, 2, `${kind}: documents in both backing indices (${indices.join(', ')})`);
          t.diagnostic(
            `${kind} ${lane.mode}: ${docs.length} lines exactly once in ${indices.length} ${indices.length === 1 ? 'index' : 'indices'}; ` +
              `proxy: ${JSON.stringify(lane.proxy.counts)}`,
          );
        }
        t.diagnostic(`${kind}: scenario (with the node's restart) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      } finally {
        await all(async (lane) => {
          lane.agent?.child.kill('SIGKILL');
          await lane.agent?.exited;
        });
      }
    });
  }

  it('UTC midnight between a kill -9 and the restart: lines stamped with their read time stay single', { timeout: 180_000 }, async (t) => {
    // Daily indices only: the run's shared server (any kind), else the first kind of the matrix.
    const server = await serverOfKind(t, kinds[0], { anyShared: true });
    if (!server) return;
    const proxy = await startEsProxy({ upstream: server.url });
    t.after(() => proxy.close());
    const tag = `midnight${process.pid}`;
    const index = `matrix${tag}`;
    if (server.shared) t.after(() => esRequest(server.url, 'DELETE', `/${index}-*`).catch(() => undefined));
    const dir = join(root, tag);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'app.log');
    const config = join(root, `${tag}.yaml`);
    agentConfig(config, proxy.url, { index });
    const node = `node-${tag}`;
    // Today at 23:59:50 UTC, then tomorrow at 00:00:10: offsets from the real clock.
    const now = Date.now();
    const midnight = Math.ceil(now / 86_400_000) * 86_400_000;
    const beforeMidnight = String(midnight - 10_000 - now);
    const afterMidnight = String(midnight + 10_000 - now);
    const args = ['run', '--input', file, '--data-dir', join(root, `${tag}-data`), '--config', config];
    const expected = markers('mid', 1000);
    // Plain lines: no time of their own.
    appendFileSync(file, expected.map((m) => `plain line seq=${m} ${'p'.repeat(40)}\n`).join(''));
    proxy.mode = 'blackhole';
    let agent = startAgentProcess({ args, env: { NODE_NAME: node, LOGFERRY_CLOCK_OFFSET_MS: beforeMidnight } });
    try {
      await until('a bulk stored and unanswered', () => proxy.counts.unanswered >= 1);
      await sleep(500);
      agent.child.kill('SIGKILL');
      await agent.exited;
      await refresh(server.url, `${index}-*`);
      const first = await docsForNode(server.url, node, `${index}-*`);
      assert.ok(first.length > 0, 'the first run stored lines');
      const firstDay = new Date(midnight - 10_000).toISOString().slice(0, 10).replaceAll('-', '.');
      assert.deepEqual([...new Set(first.map((d) => d._index))], [`${index}-${firstDay}`]);
      proxy.mode = 'pass';
      agent = startAgentProcess({ args: [...args, '--oneshot'], env: { NODE_NAME: node, LOGFERRY_CLOCK_OFFSET_MS: afterMidnight } });
      const exit = await agent.exited;
      assert.equal(exit.code, 0, agent.stderr());
      const docs = await docsForNode(server.url, node, `${index}-*`);
      const report = exactlyOnce(docs, expected);
      assert.deepEqual(report.missing, []);
      assert.deepEqual(report.duplicated, [], `replayed after midnight: ${first.length} lines stored before, ${docs.length} documents now`);
      assert.equal(docs.length, expected.length);
      t.diagnostic(
        `${server.product} ${server.version}: ${first.length} lines stored before midnight and replayed after it; ${docs.length} documents for ${expected.length} lines`,
      );
    } finally {
      agent.child.kill('SIGKILL');
      await agent.exited;
    }
  });
});
