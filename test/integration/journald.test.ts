/**
 * Issue 5: the journald input, fed by a stand-in `journalctl` on PATH that prints recorded
 * `journalctl -o json` output. Units filter, fields, cursor checkpointing (a second run sends only what is
 * new, passing --after-cursor), and a missing journalctl that leaves the other inputs running.
 */
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { sharedElasticsearch } from '../helpers/elasticsearch.js';
import { runAgent } from '../helpers/agent-process.js';
import { docsForNode } from '../helpers/es-docs.js';
import { addContainer, append, formatMessage } from '../helpers/log-tree.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

describe('journald input', () => {
  it('ships the chosen units with their fields, and resumes from the checkpointed cursor', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const dir = mkdtempSync(join(tmpdir(), 'lf-journal-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const node = `node-journal-${process.pid}`;
    const journal = join(dir, 'journal.jsonl');
    copyFileSync(join(FIXTURES, 'journal.jsonl'), journal);
    const argsLog = join(dir, 'args.log');
    const config = join(dir, 'logferry.yaml');
    writeFileSync(config, 'inputs:\n  containers:\n    enabled: false\n  components:\n    enabled: false\n  journald:\n    enabled: true\n');
    const env = {
      ELASTICSEARCH_HOSTS: url,
      NODE_NAME: node,
      PATH: `${join(FIXTURES, 'bin')}:${process.env.PATH}`,
      JOURNAL_FIXTURE: journal,
      JOURNAL_ARGS_LOG: argsLog,
    };
    const args = ['run', '--root', dir, '--data-dir', join(dir, 'data'), '--config', config, '--oneshot'];
    const first = await runAgent({ args, env });
    assert.equal(first.code, 0, first.stderr);
    let docs = await docsForNode(url, node);
    assert.equal(docs.length, 5, 'sshd.service is not one of the default units');
    const kubelet = docs
      .map((d) => d._source)
      .filter((d) => d.service?.name === 'kubelet')
      .sort((a, b) => a['@timestamp'].localeCompare(b['@timestamp']));
    assert.equal(kubelet.length, 3);
    assert.equal(kubelet[0].message, 'SyncLoop (PLEG): event for pod');
    assert.equal(kubelet[0].log.level, 'info');
    assert.equal(kubelet[0].log.origin.file.name, 'kubelet.go');
    assert.equal(kubelet[0].klog.pod, 'shop/web-0');
    assert.equal(kubelet[0]['@timestamp'], '2026-11-24T06:00:00.000000000Z', 'the journal entry time, to the microsecond');
    assert.equal(kubelet[2].log.level, 'error');
    const docker = docs.map((d) => d._source).find((d) => d.service?.name === 'docker')!;
    assert.equal(docker.log.level, 'error');
    assert.equal(docker.process.pid, 2191);

    // New entries arrive; the second run starts after the saved cursor and ships only them.
    const extra = {
      __CURSOR: 's=8a1f0c2b;i=2000;b=3c2d;m=99;t=1;x=1',
      __REALTIME_TIMESTAMP: '1795500100000000',
      PRIORITY: '6',
      _SYSTEMD_UNIT: 'containerd.service',
      MESSAGE: 'a new containerd line',
    };
    appendFileSync(journal, JSON.stringify(extra) + '\n');
    const second = await runAgent({ args, env });
    assert.equal(second.code, 0, second.stderr);
    docs = await docsForNode(url, node);
    assert.equal(docs.length, 6);
    const calls = readFileSync(argsLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);
    assert.ok(calls[0].includes('--lines=all'));
    assert.ok(calls[1].includes('--after-cursor=s=8a1f0c2b;i=1005;b=3c2d;m=5;t=6276a1b2c3d45;x=deadbeef5'), calls[1].join(' '));
    assert.deepEqual(
      calls[1].filter((_, i) => calls[1][i - 1] === '-u'),
      ['kubelet.service', 'containerd.service', 'docker.service'],
    );
  });

  it('without journalctl: one clear message, and container logs still ship', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const dir = mkdtempSync(join(tmpdir(), 'lf-journal-missing-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const node = `node-nojournal-${process.pid}`;
    const c = addContainer(dir, 'ns', 'pod', 'app');
    append(c, formatMessage(c, 'still here', 'stdout', Date.now()));
    const config = join(dir, 'logferry.yaml');
    writeFileSync(config, 'inputs:\n  journald:\n    enabled: true\n    journalctl: /nonexistent/journalctl\n');
    const run = await runAgent({
      args: ['run', '--root', dir, '--data-dir', join(dir, 'data'), '--config', config, '--oneshot'],
      env: { ELASTICSEARCH_HOSTS: url, NODE_NAME: node },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr.match(/journalctl is not installed/g)?.length, 1);
    assert.equal((await docsForNode(url, node)).length, 1);
  });
});
