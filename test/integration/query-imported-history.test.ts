/**
 * Issue 13, item 4, as a user meets it: `logferry run --oneshot` over container logs written nine days
 * ago, into the local store (7-day retention), then `logferry search`. Retention counts from arrival, so
 * the imported history is there; `--since` still means the records' own time.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BIN, runAgent } from '../helpers/agent-process.js';
import { addContainer, append, formatMessage } from '../helpers/log-tree.js';

/** `logferry search` with nothing in the environment pointing it at Elasticsearch. */
function search(args: string[]): { code: number | null; lines: string[]; stderr: string } {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^(ELASTICSEARCH_|FLUENT_|KUBERNETES_SERVICE_|LOGFERRY_)/.test(key)) env[key] = value;
  const result = spawnSync(process.execPath, [BIN, 'search', ...args], { env, encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  return { code: result.status, lines: result.stdout.split('\n').filter((line) => line !== ''), stderr: result.stderr };
}

describe('imported history in the local store', () => {
  const root = mkdtempSync(join(tmpdir(), 'logferry-history-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('container logs nine days old are stored by `run --oneshot` and found by `search`', async () => {
    const tree = join(root, 'tree');
    const dataDir = join(root, 'data');
    const nineDaysAgo = Date.now() - 9 * 86_400_000;
    const containers = [addContainer(tree, 'shop', 'web-1', 'nginx'), addContainer(tree, 'billing', 'api-2', 'api')];
    for (const [c, container] of containers.entries()) {
      let text = '';
      for (let i = 0; i < 1001; i++) text += formatMessage(container, `history ${container.pod} seq=${i}`, 'stdout', nineDaysAgo + c * 500 + i * 1000);
      append(container, text);
    }

    const run = await runAgent({ args: ['run', '--root', tree, '--data-dir', dataDir, '--oneshot'], env: { NODE_NAME: 'n1' } });
    assert.equal(run.code, 0, run.stderr);

    const all = search(['--data-dir', dataDir, '--limit', '10000', '--output', 'json']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.lines.length, 2002, 'every imported record is searchable');
    const words = search(['history seq=1000', '-n', 'billing', '--data-dir', dataDir, '--output', 'json']);
    assert.deepEqual(
      words.lines.map((line) => JSON.parse(line).message),
      ['history api-2 seq=1000'],
    );
    // --since is about the records' own time: none of them is from the last day, all from the last ten.
    assert.equal(search(['--data-dir', dataDir, '--since', '1d', '--limit', '10000']).lines.length, 0);
    assert.equal(search(['--data-dir', dataDir, '--since', '10d', '--limit', '10000']).lines.length, 2002);
  });

  it('`run --help` says retention counts from when a record was stored', () => {
    const help = spawnSync(process.execPath, [BIN, 'run', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout.replace(/\s+/g, ' '), /output\.local\.retentionDays \(default 7\) days from when it was stored, whatever its own @timestamp/);
  });
});
