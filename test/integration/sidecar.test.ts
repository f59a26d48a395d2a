/**
 * Issue 6: the sidecar profile. An application writes its own log files (and rotates them by renaming to
 * `.1` while a new file starts) on a volume shared with logferry; every line reaches Elasticsearch once
 * with the pod's identity from the Downward API, across a sidecar restart.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { SIDECAR_NODE_OPTIONS } from '../../src/deploy/objects.js';
import { sharedElasticsearch } from '../helpers/elasticsearch.js';
import { sleep, startAgentProcess } from '../helpers/agent-process.js';
import { docsForNode, exactlyOnce, markers } from '../helpers/es-docs.js';

const WRITER = fileURLToPath(new URL('../helpers/writer-process.js', import.meta.url));

describe('sidecar mode', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-sidecar-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ships app log files with the pod identity, through rotation and a restart, exactly once', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const node = `node-sidecar-${process.pid}`;
    const logs = join(dir, 'app-logs');
    const state = join(dir, 'state');
    mkdirSync(logs);
    const labels = join(dir, 'labels');
    writeFileSync(labels, 'app="shop"\napp.kubernetes.io/name="shop-web"\npod-template-hash="7d4b9c8f6d"\n');
    const env = {
      ELASTICSEARCH_HOSTS: url,
      NODE_NAME: node,
      POD_NAME: 'shop-web-7d4b9c8f6d-x2x9z',
      POD_NAMESPACE: 'shop',
      POD_UID: '0f1e2d3c-aaaa-bbbb-cccc-000000000001',
      LOGFERRY_PATHS: join(logs, '*.log'),
      LOGFERRY_PODINFO_LABELS: labels,
      LOGFERRY_APP_CONTAINER: 'web',
    };
    const args = ['run', '--profile', 'sidecar', '--data-dir', state];
    let sidecar = startAgentProcess({ args, env });
    const writer = spawn(process.execPath, [WRITER, join(logs, 'app.log'), '30000', '5000', 'plain', 'rename', '7000', 'sc'], { stdio: 'ignore' });
    const written = new Promise<void>((resolve) => writer.on('exit', () => resolve()));
    await sleep(2500);
    sidecar.child.kill('SIGTERM');
    const first = await sidecar.exited;
    assert.equal(first.code, 0, sidecar.stderr());
    await sleep(500);
    sidecar = startAgentProcess({ args, env });
    await written;
    const expected = markers('sc', 30000);
    let report = exactlyOnce([], expected);
    let docs: Awaited<ReturnType<typeof docsForNode>> = [];
    for (let i = 0; i < 40; i++) {
      await sleep(1000);
      docs = await docsForNode(url, node);
      report = exactlyOnce(docs, expected);
      if (report.missing.length === 0) break;
    }
    sidecar.child.kill('SIGTERM');
    await sidecar.exited;
    assert.deepEqual(report.missing, [], sidecar.stderr());
    assert.deepEqual(report.duplicated, []);
    const doc = docs[0]._source;
    assert.equal(doc.kubernetes.pod.name, 'shop-web-7d4b9c8f6d-x2x9z');
    assert.equal(doc.kubernetes.namespace, 'shop');
    assert.equal(doc.kubernetes.pod.uid, '0f1e2d3c-aaaa-bbbb-cccc-000000000001');
    assert.equal(doc.kubernetes.container.name, 'web');
    assert.equal(doc.kubernetes.labels.app, 'shop');
    assert.equal(doc.kubernetes.labels['app_kubernetes_io/name'], 'shop-web');
    assert.ok(String(doc.log.file.path).startsWith(logs));
  });

  it('idle sidecar memory stays under 60 MiB, with the NODE_OPTIONS logferry inject gives it', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const logs = join(dir, 'idle-logs');
    mkdirSync(logs);
    writeFileSync(join(logs, 'app.log'), 'started\n');
    const sidecar = startAgentProcess({
      args: ['run', '--profile', 'sidecar', '--data-dir', join(dir, 'idle-state')],
      env: {
        ELASTICSEARCH_HOSTS: url,
        NODE_NAME: 'idle',
        POD_NAME: 'p',
        POD_NAMESPACE: 'n',
        LOGFERRY_PATHS: join(logs, '*.log'),
        NODE_OPTIONS: SIDECAR_NODE_OPTIONS,
      },
    });
    // Idle means settled: start-up garbage (config, templates, module compilation) is returned to the
    // system by V8's memory reducer some seconds after the process goes quiet.
    const samples: number[] = [];
    for (let i = 0; i < 16; i++) {
      await sleep(1000);
      samples.push(sidecar.sampleRss() ?? Number.POSITIVE_INFINITY);
    }
    const settled = samples[samples.length - 1];
    const peak = Math.max(...samples);
    sidecar.child.kill('SIGTERM');
    await sidecar.exited;
    t.diagnostic(`idle sidecar RSS ${(settled / 1048576).toFixed(1)} MiB settled, ${(peak / 1048576).toFixed(1)} MiB at most while starting`);
    assert.ok(settled < 60 * 1048576, `idle RSS ${(settled / 1048576).toFixed(1)} MiB`);
  });
});
