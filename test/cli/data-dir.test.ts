/**
 * A data directory the agent cannot use → exit 2 at once with one line naming the path, the reason and
 * what to do (issue 13, item 5): no ten-minute spin under /proc, no JavaScript stack trace.
 *
 * The tests run as root, which permission bits do not stop. "Read-only" is therefore shown three ways: a
 * read-only bind mount (skipped, saying why, where mounting is not allowed), an existing directory under
 * /sys (sysfs refuses new files even to root), and the agent run as an unprivileged user (uid 65534) on a
 * mode 0555 directory (skipped when the tests do not run as root).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addContainer, criLine, criTimestamp } from '../helpers/log-tree.js';
import { BIN, runAgent } from '../helpers/agent-process.js';

/** exit 2, within `maxMs`, exactly one line on stderr, no stack trace */
function assertOneLineExit2(result: { code: number | null; stderr: string }, elapsedMs: number, maxMs = 10_000): string {
  assert.equal(result.code, 2, `exit code (stderr: ${result.stderr})`);
  assert.ok(elapsedMs < maxMs, `took ${elapsedMs} ms`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, /\n\s+at |Error:/, 'no stack trace');
  assert.match(lines[0], /^logferry: data directory /);
  assert.match(lines[0], /choose a writable directory/);
  return lines[0];
}

describe('data directory checks at start', () => {
  let dir: string;
  let config: string;
  const run = async (dataDir: string, env: Record<string, string> = {}, args = ['--data-dir', dataDir]) => {
    const started = Date.now();
    // A short timeout: the old agent spun forever under /proc; the test must fail, not hang.
    const result = await runAgent({ args: ['run', '--root', join(dir, 'tree'), '--oneshot', '--config', config, ...args], env, timeoutMs: 15_000 });
    return { ...result, elapsedMs: Date.now() - started };
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-datadir-'));
    config = join(dir, 'logferry.yaml');
    writeFileSync(config, 'server:\n  address: ""\n');
    // One log line to read: a oneshot run that finds no input at all exits 1 (issue 13, item 6).
    writeFileSync(addContainer(join(dir, 'tree'), 'ns', 'pod', 'app').logPath, criLine(criTimestamp(Date.now()), 'stdout', 'F', 'hello'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('under /proc: exit 2 at once with one line (no spin, no stack)', async () => {
    const result = await run('/proc/logferry-test/data');
    const line = assertOneLineExit2(result, result.elapsedMs);
    assert.match(line, /\/proc\/logferry-test: cannot create the directory: .*ENOENT/);
    assert.equal(existsSync('/proc/logferry-test'), false);
  });

  it('the same from LOGFERRY_DATA_DIR names the variable', async () => {
    const result = await run('', { LOGFERRY_DATA_DIR: '/proc/logferry-test' }, []);
    const line = assertOneLineExit2(result, result.elapsedMs);
    assert.match(line, /^logferry: data directory \/proc\/logferry-test \(LOGFERRY_DATA_DIR\)/);
  });

  it('a parent that is a file: exit 2 naming that file', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory\n');
    const result = await run(join(file, 'sub', 'data'));
    const line = assertOneLineExit2(result, result.elapsedMs);
    assert.ok(line.includes(`${file}: it is a file, not a directory`), line);
  });

  it('checkpoints.json that is a directory: exit 2 naming it', async () => {
    const dataDir = join(dir, 'cp-dir');
    mkdirSync(join(dataDir, 'checkpoints.json'), { recursive: true });
    const result = await run(dataDir);
    const line = assertOneLineExit2(result, result.elapsedMs);
    assert.ok(line.includes(`${join(dataDir, 'checkpoints.json')}: it is not a regular file`), line);
  });

  it('an existing directory under /sys (not writable, even for root): exit 2', async () => {
    const result = await run('/sys/kernel');
    const line = assertOneLineExit2(result, result.elapsedMs);
    assert.match(line, /\/sys\/kernel: cannot write in it: permission denied \((EACCES|EPERM)\)/);
  });

  it('a read-only bind mount: exit 2 naming the read-only file system', async (t) => {
    const source = join(dir, 'ro-source');
    const target = join(dir, 'ro-target');
    mkdirSync(source);
    mkdirSync(target);
    const mount = spawnSync('mount', ['--bind', '-o', 'ro', source, target], { encoding: 'utf8' });
    if (mount.status !== 0) {
      t.skip(`cannot bind-mount here (${(mount.stderr || String(mount.error)).trim()}); the /sys and uid 65534 cases cover read-only`);
      return;
    }
    try {
      const result = await run(join(target, 'data'));
      const line = assertOneLineExit2(result, result.elapsedMs);
      assert.match(line, /ro-target\/data: cannot create the directory: the file system is read-only \(EROFS\)/);
    } finally {
      spawnSync('umount', [target]);
    }
  });

  it('no write permission (unprivileged user, mode 0555): exit 2', async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip('needs root to run the agent as uid 65534');
      return;
    }
    chmodSync(dir, 0o755); // mkdtemp makes it 0700: the other user must reach the config and the directory
    const dataDir = join(dir, 'no-write');
    mkdirSync(dataDir, { mode: 0o555 });
    chmodSync(dataDir, 0o555);
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, 'run', '--root', join(dir, 'tree'), '--oneshot', '--config', config, '--data-dir', dataDir], {
      uid: 65534,
      gid: 65534,
      env: { PATH: process.env.PATH ?? '', LOGFERRY_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(timer);
    const line = assertOneLineExit2({ code, stderr }, Date.now() - started);
    assert.ok(line.includes(`${dataDir}: cannot write in it: permission denied (EACCES)`), line);
  });

  it('a good path: missing parents are created, the agent runs, the lock is gone after exit', async () => {
    const dataDir = join(dir, 'new', 'nested', 'data');
    const result = await run(dataDir);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readdirSync(dataDir).sort(), ['checkpoints.json', 'store']);
  });
});
