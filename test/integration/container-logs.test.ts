/**
 * Issue 3 end to end: real files in a kubelet-style tree, the real agent process, the real Elasticsearch.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sharedElasticsearch } from '../helpers/elasticsearch.js';
import { runAgent } from '../helpers/agent-process.js';
import { docsForNode, exactlyOnce, markers } from '../helpers/es-docs.js';
import { addContainer, append, criLine, criTimestamp, dockerLine, formatMessage, rotateByRename } from '../helpers/log-tree.js';

const MiB = 1024 * 1024;

describe('container logs to Elasticsearch', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'logferry-cl-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('ships CRI and docker lines once, with partial lines joined, bad bytes flagged and a 3 MiB line cut', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const node = `node-fields-${process.pid}`;
    const tree = join(root, 'fields');
    const cri = addContainer(tree, 'shop', 'web-7d4b9c8f6d-x2x9z', 'app', 'cri');
    const docker = addContainer(tree, 'billing', 'api-0', 'api', 'docker');
    const t0 = Date.UTC(2026, 10, 24, 12, 0, 0);
    const expected = new Map<string, { message: string; stream: string; container: string }>();

    const plain = 'GET /healthz 200 seq=f-1 ✓ 日本語 — émoji 🚀';
    append(cri, formatMessage(cri, plain, 'stdout', t0));
    expected.set('f-1', { message: plain, stream: 'stdout', container: 'app' });
    const json = '{"level":"WARN","msg":"slow query seq=f-2","user":{"id":7}}';
    append(cri, formatMessage(cri, json, 'stderr', t0 + 1));
    expected.set('f-2', { message: 'slow query seq=f-2', stream: 'stderr', container: 'app' });
    const long = 'partial seq=f-3 ' + 'abcdefghij'.repeat(3000);
    // Interleave the other stream between the pieces: joining is per stream.
    const ts = criTimestamp(t0 + 2);
    append(cri, criLine(ts, 'stdout', 'P', long.slice(0, 10000)));
    append(cri, criLine(ts, 'stderr', 'F', 'between the pieces seq=f-4'));
    append(cri, criLine(ts, 'stdout', 'P', long.slice(10000, 20000)));
    append(cri, criLine(ts, 'stdout', 'F', long.slice(20000)));
    expected.set('f-3', { message: long, stream: 'stdout', container: 'app' });
    expected.set('f-4', { message: 'between the pieces seq=f-4', stream: 'stderr', container: 'app' });
    appendFileSync(
      cri.logPath,
      Buffer.concat([Buffer.from(`${criTimestamp(t0 + 3)} stdout F bad bytes seq=f-5 `), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('\n')]),
    );
    append(cri, 'this is not a CRI line seq=f-6\n');
    // 3 MiB in 16 KiB CRI pieces: arrives once, cut at the 1 MiB maximum and flagged.
    const huge = 'seq=f-7 ' + 'x'.repeat(3 * MiB);
    const hugeTs = criTimestamp(t0 + 4);
    for (let i = 0; i < huge.length; i += 16384) {
      append(cri, criLine(hugeTs, 'stdout', i + 16384 >= huge.length ? 'F' : 'P', huge.slice(i, i + 16384)));
    }
    append(cri, formatMessage(cri, 'after the huge one seq=f-8', 'stdout', t0 + 5));
    expected.set('f-8', { message: 'after the huge one seq=f-8', stream: 'stdout', container: 'app' });

    append(docker, dockerLine(criTimestamp(t0 + 6), 'stdout', 'docker plain seq=f-9'));
    append(docker, dockerLine(criTimestamp(t0 + 7), 'stdout', 'docker split seq=f-10 ' + 'y'.repeat(20000).slice(0, 16384 - 24), true));
    append(docker, dockerLine(criTimestamp(t0 + 7), 'stdout', 'tail of the split'));
    expected.set('f-9', { message: 'docker plain seq=f-9', stream: 'stdout', container: 'api' });

    const dataDir = join(root, 'fields-data');
    const env = { ELASTICSEARCH_HOSTS: url, NODE_NAME: node };
    const run = await runAgent({ args: ['run', '--root', tree, '--data-dir', dataDir, '--oneshot'], env });
    assert.equal(run.code, 0, run.stderr);

    const docs = await docsForNode(url, node);
    const report = exactlyOnce(docs, markers('f', 11).slice(1));
    assert.deepEqual(report.missing, []);
    assert.deepEqual(report.duplicated, []);
    assert.equal(docs.length, 10);
    const bySeq = new Map(docs.map((d) => [/seq=(f-\d+)/.exec(d._source.message)?.[1], d._source]));
    for (const [seq, want] of expected) {
      const doc = bySeq.get(seq);
      assert.ok(doc, seq);
      assert.equal(doc.message, want.message, `${seq} message`);
      assert.equal(doc.stream, want.stream, `${seq} stream`);
      assert.equal(doc.kubernetes.container.name, want.container);
      assert.equal(doc.host.name, node);
      assert.equal(typeof doc.log.offset, 'number');
    }
    const first = bySeq.get('f-1')!;
    assert.equal(first.kubernetes.namespace, 'shop');
    assert.equal(first.kubernetes.pod.name, 'web-7d4b9c8f6d-x2x9z');
    assert.equal(first.kubernetes.pod.uid, cri.uid);
    assert.equal(first.container.id, cri.containerId);
    assert.equal(first.log.file.path, cri.linkPath.slice(tree.length));
    assert.equal(first.log.offset, 0);
    assert.equal(first['@timestamp'], criTimestamp(t0));
    const jsonDoc = bySeq.get('f-2')!;
    assert.equal(jsonDoc.log.level, 'warn');
    assert.equal(jsonDoc.json.user.id, 7);
    assert.ok(bySeq.get('f-5')!.log.flags.includes('invalid_utf8'));
    assert.ok(bySeq.get('f-5')!.message.includes('\uFFFD'));
    assert.ok(bySeq.get('f-6')!.log.flags.includes('unparsed'));
    const cut = bySeq.get('f-7')!;
    assert.ok(cut.log.flags.includes('truncated'));
    assert.equal(Buffer.byteLength(cut.message), MiB);
    const split = bySeq.get('f-10')!;
    assert.ok(split.message.endsWith('tail of the split'));
    assert.equal(bySeq.get('f-9')!.kubernetes.namespace, 'billing');

    // Run again: nothing new. Forget the checkpoints and run again: the same ids, so still one copy each.
    const again = await runAgent({ args: ['run', '--root', tree, '--data-dir', dataDir, '--oneshot'], env });
    assert.equal(again.code, 0, again.stderr);
    rmSync(dataDir, { recursive: true, force: true });
    const replay = await runAgent({ args: ['run', '--root', tree, '--data-dir', dataDir, '--oneshot'], env });
    assert.equal(replay.code, 0, replay.stderr);
    assert.equal((await docsForNode(url, node)).length, 10);
  });

  it('finds a file rotated while the agent was stopped and drains it from its checkpoint', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const node = `node-rotated-${process.pid}`;
    const tree = join(root, 'rotated');
    const c = addContainer(tree, 'ns', 'pod-a', 'main', 'cri');
    const t0 = Date.now();
    let text = '';
    for (let i = 0; i < 1000; i++) text += formatMessage(c, `before seq=r-${i}`, 'stdout', t0 + i);
    append(c, text);
    const dataDir = join(root, 'rotated-data');
    const env = { ELASTICSEARCH_HOSTS: url, NODE_NAME: node };
    assert.equal((await runAgent({ args: ['run', '--root', tree, '--data-dir', dataDir, '--oneshot'], env })).code, 0);
    // While stopped: more lines into the old file, rotation by rename, new lines in the new file.
    text = '';
    for (let i = 1000; i < 1500; i++) text += formatMessage(c, `stopped seq=r-${i}`, 'stdout', t0 + i);
    append(c, text);
    rotateByRename(c, '20261124-120000');
    text = '';
    for (let i = 1500; i < 1800; i++) text += formatMessage(c, `new file seq=r-${i}`, 'stdout', t0 + i);
    append(c, text);
    const run = await runAgent({ args: ['run', '--root', tree, '--data-dir', dataDir, '--oneshot'], env });
    assert.equal(run.code, 0, run.stderr);
    const report = exactlyOnce(await docsForNode(url, node), markers('r', 1800));
    assert.deepEqual(report.missing, []);
    assert.deepEqual(report.duplicated, []);
  });
});
