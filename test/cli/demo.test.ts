/**
 * Issue 14, "a first hour that goes right": `logferry demo` as a new user runs it. With ELASTICSEARCH_* set
 * its hints query Elasticsearch (naming the URL), not the empty local store; it prints a status line every
 * few seconds; Ctrl-C says it is flushing and for how long; its generated log tree is gone afterwards.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAgentProcess, sleep, type AgentProcess } from '../helpers/agent-process.js';
import { countDocs, deleteIndices, sharedElasticsearch } from '../helpers/elasticsearch.js';

const STATUS = /^logferry demo: \S+: [\d,]+ lines written, ([\d,]+) records stored, [\d,]+ pending, [\d,]+ duplicates$/m;

async function waitFor(demo: AgentProcess, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = demo.stderr().match(pattern);
    if (match) return match;
    if (Date.now() > deadline || demo.child.exitCode !== null) assert.fail(`no ${pattern} in:\n${demo.stderr()}`);
    await sleep(100);
  }
}

/** Runs the demo until a status line shows stored records, then Ctrl-C; returns everything it printed. */
async function runDemo(dir: string, name: string, env: Record<string, string>) {
  // The demo's temporary files go to TMPDIR: a folder of this test's own, to see them gone afterwards.
  const tmp = join(dir, `tmp-${name}`);
  mkdirSync(tmp);
  const demo = startAgentProcess({ args: ['demo', '--data-dir', join(dir, `data-${name}`), '--status-interval-ms', '300'], env: { TMPDIR: tmp, ...env } });
  try {
    await waitFor(demo, /Ctrl-C stops the demo/);
    assert.equal(readdirSync(tmp).filter((f) => f.startsWith('logferry-demo-')).length, 1, 'the generated tree is in TMPDIR');
    // A status line that shows records stored (the first ones may come before the output answered).
    const deadline = Date.now() + 30_000;
    while (!/records stored/.test(demo.stderr()) || [...demo.stderr().matchAll(new RegExp(STATUS, 'gm'))].every((m) => m[1] === '0')) {
      if (Date.now() > deadline) assert.fail(`no status line with stored records:\n${demo.stderr()}`);
      await sleep(100);
    }
    demo.child.kill('SIGINT');
    const { code } = await demo.exited;
    return { code, stderr: demo.stderr(), leftInTmp: readdirSync(tmp) };
  } finally {
    demo.child.kill('SIGKILL');
  }
}

describe('logferry demo', () => {
  let dir: string;
  const index = `lfdemo${process.pid}`;
  const esUrl = process.env.LOGFERRY_TEST_ES_URL;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-demo-'));
    // Its own index (and no templates): the demo's records do not land in the shared cluster's logstash-*.
    writeFileSync(
      join(dir, 'logferry.yaml'),
      `server:\n  address: ""\noutput:\n  elasticsearch:\n    index: ${index}\n    deadLetterIndex: ${index}dead\n    installTemplate: false\n`,
    );
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (esUrl) await deleteIndices(esUrl, `${index}*`);
  });

  it('with ELASTICSEARCH_HOSTS set: hints query that Elasticsearch, status lines, Ctrl-C flushes, temp files removed', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const { code, stderr, leftInTmp } = await runDemo(dir, 'es', { ELASTICSEARCH_HOSTS: url, LOGFERRY_CONFIG: join(dir, 'logferry.yaml') });
    assert.equal(code, 0, stderr);
    assert.ok(stderr.includes(`kube-proxy and docker logs to Elasticsearch at ${url}\n`), stderr);
    assert.ok(stderr.includes(`  export ELASTICSEARCH_HOSTS=${url}\n`), stderr);
    assert.match(stderr, new RegExp(`^  node \\S*bin/logferry\\.js search 'level:error' -n shop --index '${index}-\\*'$`, 'm'));
    assert.ok(stderr.includes(`  curl -s '${url}/${index}-*/_count?q=kubernetes.namespace:shop'\n`), stderr);
    assert.doesNotMatch(stderr, /local store|from this folder|--data-dir/, 'no hint reads the local store');
    assert.match(stderr, STATUS);
    assert.match(
      stderr,
      new RegExp(
        `^logferry demo: stopping: flushing (\\S+ pending records )?to Elasticsearch at ${url.replaceAll('.', '\\.')} \\(up to 25s; Ctrl-C again quits without waiting\\)$`,
        'm',
      ),
    );
    const stopped =
      /^logferry demo: stopped after \S+: [\d,]+ lines written, ([\d,]+) records stored, 0 pending, [\d,]+ duplicates; removed (\S+); the records stay in Elasticsearch at /m.exec(
        stderr,
      );
    assert.ok(stopped, stderr);
    assert.deepEqual(leftInTmp, [], 'the generated log tree is removed');
    assert.equal(await countDocs(url, `${index}-*`), Number(stopped[1].replaceAll(',', '')), 'what the last line says was stored is in Elasticsearch');
  });

  it('with the local store: hints read it from this folder; temp files removed after Ctrl-C', async () => {
    const config = join(dir, 'local.yaml');
    writeFileSync(config, 'server:\n  address: ""\n');
    const { code, stderr, leftInTmp } = await runDemo(dir, 'local', { LOGFERRY_CONFIG: config });
    assert.equal(code, 0, stderr);
    assert.match(stderr, /kube-proxy and docker logs to the local store in \S+data-local\n/);
    assert.match(stderr, /^ {2}node \S*bin\/logferry\.js search 'level:error' -n shop --data-dir \S+data-local$/m);
    assert.match(stderr, STATUS);
    assert.match(stderr, /^logferry demo: stopping: flushing .*to the local store in \S+ \(up to 25s; Ctrl-C again quits without waiting\)$/m);
    assert.match(stderr, /^logferry demo: stopped after .*; removed \S+; the records stay in the local store in /m);
    assert.deepEqual(leftInTmp, []);
  });
});
