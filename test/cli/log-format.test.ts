/**
 * Issue 14: the agent's self-logs are for people on a terminal and for machines elsewhere. `logferry run`
 * with stderr on a pseudo-terminal (script(1)) prints readable lines; piped (a pod, a file) it prints the
 * same events as JSON lines.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

const BIN = fileURLToPath(new URL('../../../bin/logferry.js', import.meta.url));

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(ELASTICSEARCH_|FLUENT_ELASTICSEARCH_|KUBERNETES_SERVICE_|LOGFERRY_|NO_COLOR)/.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

describe('self-logs: text on a terminal, JSON lines otherwise', () => {
  let dir: string;
  let n = 0;
  const args = () => [
    'run',
    '--oneshot',
    '--config',
    join(dir, 'logferry.yaml'),
    '--data-dir',
    join(dir, `data-${++n}`),
    '--input',
    join(dir, 'logs', 'app.log'),
  ];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-log-format-'));
    writeFileSync(join(dir, 'logferry.yaml'), 'server:\n  address: ""\n');
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'app.log'), 'first line\nsecond line\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('piped: one JSON object per line', () => {
    const result = spawnSync(process.execPath, [BIN, ...args()], { env: cleanEnv(), encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stderr.trimEnd().split('\n');
    const logs = lines.filter((l) => !l.startsWith('logferry: oneshot'));
    assert.ok(logs.length >= 2, result.stderr);
    for (const line of logs) assert.doesNotThrow(() => JSON.parse(line), line);
    assert.ok(logs.some((l) => (JSON.parse(l) as { msg: string }).msg === 'logferry agent started'));
  });

  it('on a terminal: time, level, message, fields; no JSON; LOGFERRY_LOG_FORMAT=json forces JSON', (t) => {
    if (spawnSync('script', ['--version']).status !== 0) return t.skip('needs util-linux script(1) for a pseudo-terminal');
    const onTerminal = (env: Record<string, string>) => {
      const command = [process.execPath, BIN, ...args()].map((a) => JSON.stringify(a)).join(' ');
      const result = spawnSync('script', ['-qec', command, '/dev/null'], { env: cleanEnv(env), encoding: 'utf8', timeout: 30_000 });
      assert.equal(result.status, 0, result.stdout);
      return result.stdout.replaceAll('\r', '');
    };
    const text = onTerminal({ NO_COLOR: '1' });
    assert.match(text, /^\d\d:\d\d:\d\d INFO {2}logferry agent started {2}node=\S+ output=local-store dataDir=/m);
    assert.match(text, /^logferry: oneshot complete: stored 2,/m);
    assert.doesNotMatch(text, /^\{/m);
    assert.doesNotMatch(text, /\x1b/, 'NO_COLOR: no colour');
    assert.match(onTerminal({}), /\x1b\[32mINFO \x1b\[0m logferry agent started/);
    assert.match(onTerminal({ LOGFERRY_LOG_FORMAT: 'json' }), /^\{"level":30,.*"msg":"logferry agent started"/m);
  });
});
