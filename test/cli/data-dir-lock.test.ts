/**
 * One agent per data directory (issue 13, item 5), with the real binary: a second live agent is refused
 * with exit 2 naming the directory and the other pid; a lock left by a killed agent does not block the
 * restart. data-dir-locker.test.ts covers pid reuse, zombies and owners in other PID namespaces.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addContainer, criLine, criTimestamp } from '../helpers/log-tree.js';
import { BIN, runAgent, sleep, startAgentProcess } from '../helpers/agent-process.js';

// Spelled out, not imported from src/cli/data-dir-lock.ts, so this file also runs against an agent without it.
const LOCK_FILE = 'logferry.lock';

async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('data directory lock: agent processes', () => {
  let dir: string;
  let config: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-lock-'));
    config = join(dir, 'logferry.yaml');
    writeFileSync(config, 'server:\n  address: ""\n');
    // One log line to read: a oneshot run that finds no input at all exits 1 (issue 13, item 6).
    writeFileSync(addContainer(join(dir, 'tree'), 'ns', 'pod', 'app').logPath, criLine(criTimestamp(Date.now()), 'stdout', 'F', 'hello'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const args = (dataDir: string, ...more: string[]) => ['run', '--root', join(dir, 'tree'), '--data-dir', dataDir, '--config', config, ...more];

  it("a second agent on the same data directory exits 2 naming it and the first one's pid; the first runs on", async () => {
    const dataDir = join(dir, 'shared');
    // info level: its "started" line says the SIGTERM handler is in place, so the stop below is graceful
    const first = startAgentProcess({ args: args(dataDir), env: { LOGFERRY_LOG_LEVEL: 'info' } });
    try {
      await waitFor(() => first.stderr().includes('logferry agent started'), 'the first agent to start');
      const second = await runAgent({ args: args(dataDir, '--oneshot'), timeoutMs: 20_000 });
      assert.equal(second.code, 2, second.stderr);
      const lines = second.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, second.stderr);
      assert.match(lines[0], new RegExp(`^logferry: data directory ${dataDir} is in use by another logferry agent \\(pid ${first.child.pid} `));
      assert.match(lines[0], /stop the other agent or give this one another --data-dir/);
      assert.equal(first.child.exitCode, null, 'the first agent still runs');
      assert.equal(JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')).pid, first.child.pid, "the lock is still the first agent's");
    } finally {
      first.child.kill('SIGTERM');
    }
    const exit = await first.exited;
    assert.equal(exit.code, 0, first.stderr());
    assert.equal(existsSync(join(dataDir, LOCK_FILE)), false, 'released at exit');
  });

  it('a lock left by a killed agent (kill -9) does not block the restart', async () => {
    const dataDir = join(dir, 'killed');
    const first = startAgentProcess({ args: args(dataDir) });
    await waitFor(() => existsSync(join(dataDir, LOCK_FILE)), 'the first agent to take the lock');
    first.child.kill('SIGKILL');
    await first.exited;
    assert.equal(existsSync(join(dataDir, LOCK_FILE)), true, 'kill -9 leaves the lock behind');
    const started = Date.now();
    const restart = await runAgent({ args: args(dataDir, '--oneshot'), timeoutMs: 20_000 });
    assert.equal(restart.code, 0, restart.stderr);
    assert.ok(Date.now() - started < 8000, `restart took ${Date.now() - started} ms`);
    assert.equal(existsSync(join(dataDir, LOCK_FILE)), false);
  });

  it('a live agent in another PID namespace (a container) is refused', async (t) => {
    const probe = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']);
    if (probe.status !== 0) {
      t.skip(`unshare --pid not available here (${probe.stderr?.toString().trim() || String(probe.error)}); the locker tests cover other namespaces`);
      return;
    }
    const dataDir = join(dir, 'other-namespace');
    // `--oneshot` off: it runs until killed; the agent is pid 1 in its namespace, as in a container.
    const holder = spawn('unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', process.execPath, BIN, ...args(dataDir)], {
      stdio: 'ignore',
      env: { ...process.env, LOGFERRY_LOG_LEVEL: 'warn' },
    });
    const holderExited = new Promise((resolve) => holder.on('exit', resolve));
    try {
      await waitFor(() => existsSync(join(dataDir, LOCK_FILE)), 'the agent in the other namespace to take the lock');
      assert.equal(JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')).pid, 1);
      const second = await runAgent({ args: args(dataDir, '--oneshot'), timeoutMs: 30_000 });
      assert.equal(second.code, 2, second.stderr);
      assert.match(second.stderr, /is in use by another logferry agent \(pid 1 on host .*in another container or PID namespace; it keeps its lock fresh/);
    } finally {
      // --kill-child: unshare's child (the agent, pid 1 of the namespace) gets SIGKILL when unshare dies;
      // without it the agent outlived the test, holding its lock and a core for good.
      holder.kill('SIGKILL');
      await holderExited;
    }
  });
});
