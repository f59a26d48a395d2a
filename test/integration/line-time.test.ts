/**
 * Issue 14: a file read with `--input` (as a sidecar file would be) whose lines carry their own time and
 * level — log4j lines, here — is stored with `@timestamp` and `log.level` from the lines, not the time it
 * was read. Runs the real executable (`run --oneshot` into a temporary local store, then `search`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LOGS_DIR } from '../fixtures/feed.js';
import { BIN, runAgent } from '../helpers/agent-process.js';

function search(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^(ELASTICSEARCH_|FLUENT_|LOGFERRY_)/.test(key)) env[key] = value;
  const result = spawnSync(process.execPath, [BIN, 'search', ...args], { env, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('--input file with log4j lines: @timestamp and log.level from the lines', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-line-time-'));
    writeFileSync(join(dir, 'logferry.yaml'), 'server:\n  address: ""\n');
    copyFileSync(join(LOGS_DIR, 'log4j.log'), join(dir, 'billing.log'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('run --oneshot, then search the local store', async () => {
    const dataDir = join(dir, 'data');
    const run = await runAgent({
      args: ['run', '--oneshot', '--config', join(dir, 'logferry.yaml'), '--data-dir', dataDir, '--input', join(dir, 'billing.log')],
      timeoutMs: 60_000,
    });
    assert.equal(run.code, 0, run.stderr);
    const found = search(['--output', 'json', '--oldest-first', '--from', '2026-11-24T00:00:00Z', '--to', '2026-11-25T00:00:00Z', '--data-dir', dataDir]);
    assert.equal(found.code, 0, found.stderr);
    const docs = found.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { '@timestamp': string; message: string; log: { level?: string } });
    assert.deepEqual(
      docs.map((d) => [d['@timestamp'], d.log.level]),
      [
        ['2026-11-24T10:15:30.123Z', 'info'],
        ['2026-11-24T10:15:31.007Z', 'warn'],
        ['2026-11-24T10:15:32.450Z', 'error'],
        ['2026-11-24T10:15:33.901Z', 'debug'],
      ],
    );
    assert.match(
      docs[2].message,
      /^2026-11-24 10:15:32,450 ERROR \[http-nio-8080-exec-2\] .* charge failed for invoice INV-20001$/,
      'the message is the line as written',
    );
  });
});
