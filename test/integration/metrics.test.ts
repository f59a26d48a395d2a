/** Issue 3 operability: /metrics, /healthz and /readyz of a running agent. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sharedElasticsearch } from '../helpers/elasticsearch.js';
import { sleep, startAgentProcess } from '../helpers/agent-process.js';
import { addContainer, append, formatMessage } from '../helpers/log-tree.js';

describe('agent endpoint', () => {
  it('serves Prometheus metrics with the pipeline counters, and health and readiness', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const dir = mkdtempSync(join(tmpdir(), 'lf-metrics-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const c = addContainer(dir, 'ns', 'pod', 'app');
    let text = '';
    for (let i = 0; i < 100; i++) text += formatMessage(c, `line ${i}`, 'stdout', Date.now());
    append(c, text);
    const config = join(dir, 'logferry.yaml');
    writeFileSync(config, 'server:\n  address: 127.0.0.1:0\n');
    const agent = startAgentProcess({
      args: ['run', '--root', dir, '--data-dir', join(dir, 'data'), '--config', config],
      env: { ELASTICSEARCH_HOSTS: url, NODE_NAME: 'metrics-node', LOGFERRY_LOG_LEVEL: 'info' },
    });
    t.after(async () => {
      agent.child.kill('SIGKILL');
      await agent.exited;
    });
    let port: number | undefined;
    for (let i = 0; i < 50 && port === undefined; i++) {
      await sleep(100);
      const started = agent
        .stderr()
        .split('\n')
        .find((l) => l.includes('logferry agent started'));
      if (started) port = JSON.parse(started).metricsPort;
    }
    assert.ok(port, agent.stderr());
    await sleep(2500);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1]);
    assert.equal(value('logferry_records_in_total'), 100);
    assert.equal(value('logferry_sink_records_stored_total'), 100);
    assert.equal(value('logferry_files_open'), 1);
    assert.equal(value('logferry_bytes_behind'), 0);
    assert.ok(value('logferry_source_bytes_read_total') > 0);
    assert.match(metrics, /^logferry_process_resident_memory_bytes /m);
    assert.equal(value('logferry_sink_records_duplicate_total'), 0);
    assert.match(metrics, /^logferry_sink_request_duration_seconds_count\{sink="elasticsearch",outcome="200"\} [1-9]/m);
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
    agent.child.kill('SIGTERM');
    assert.equal((await agent.exited).code, 0);
  });
});
