/**
 * The data directory lock's judgement of a lock file it finds (issue 13, item 5), where processes on one
 * machine cannot easily show it: a pid reused after kill -9 (pid 1 in every container), a zombie, a
 * reboot, owners in another PID namespace judged by their heartbeat, two agents taking over at once, and
 * an owner that finds its lock taken.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UsageError } from '../../src/cli/errors.js';
import { currentOwner, DataDirLocker, LOCK_FILE, processStartTicks, type LockOwner } from '../../src/cli/data-dir-lock.js';

async function waitFor(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('data directory lock: the locker', () => {
  let dir: string;
  let n = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-locker-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const fresh = () => {
    const d = join(dir, `d${n++}`);
    mkdirSync(d);
    return d;
  };
  const writeLock = (d: string, owner: Partial<LockOwner>) => {
    const full: LockOwner = { ...currentOwner(), nonce: 'theirs', ...owner };
    writeFileSync(join(d, LOCK_FILE), JSON.stringify(full) + '\n');
    return full;
  };
  const noLost = { onLost: () => assert.fail('lost the lock') };

  it('a lock naming this pid with another start time (pid reused after kill -9, e.g. pid 1 in a container) is taken over at once', async () => {
    const d = fresh();
    writeLock(d, { pid: process.pid, startTicks: (currentOwner().startTicks ?? 0) - 1 });
    const started = Date.now();
    const lock = await new DataDirLocker(d, noLost).acquire();
    assert.ok(Date.now() - started < 1000);
    assert.equal(JSON.parse(readFileSync(join(d, LOCK_FILE), 'utf8')).nonce, lock.owner.nonce);
    lock.release();
    assert.equal(existsSync(join(d, LOCK_FILE)), false);
  });

  it('a lock whose owner is a zombie (killed, not yet reaped by its parent) is taken over at once', async () => {
    // The child exits after its parent has exec'd `sleep`, which never reaps it: a zombie with a known pid.
    const parent = spawn('sh', ['-c', '(sleep 0.5; exec true) & echo $!; exec sleep 10'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (b: Buffer) => resolve(b.toString()))));
      await waitFor(() => /\) Z /.test(readFileSync(`/proc/${zombie}/stat`, 'utf8')), 'the zombie', 5000);
      const d = fresh();
      writeLock(d, { pid: zombie, startTicks: processStartTicks(zombie) });
      const lock = await new DataDirLocker(d, noLost).acquire();
      lock.release();
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('a lock from before a reboot of this host is taken over at once', async () => {
    const d = fresh();
    writeLock(d, { pid: process.pid, bootId: 'another-boot' });
    const lock = await new DataDirLocker(d, noLost).acquire();
    lock.release();
  });

  it('the same process cannot take it twice', async () => {
    const d = fresh();
    const lock = await new DataDirLocker(d, noLost).acquire();
    await assert.rejects(
      new DataDirLocker(d, noLost).acquire(),
      (error: Error) => error instanceof UsageError && error.message.includes(`pid ${process.pid} `),
    );
    lock.release();
  });

  it('another PID namespace, lock not kept fresh: waited for, then taken over', async () => {
    const d = fresh();
    writeLock(d, { pid: 1, pidNamespace: 'pid:[1]' });
    const waits: string[] = [];
    const started = Date.now();
    const lock = await new DataDirLocker(d, { ...noLost, heartbeatMs: 50, staleMs: 400, onWait: (m) => waits.push(m) }).acquire();
    assert.ok(Date.now() - started >= 350, 'waited for the heartbeat to go stale');
    assert.equal(waits.length, 1);
    assert.match(waits[0], /locked by pid 1 .*in another container or PID namespace; waiting up to 1 s/);
    lock.release();
  });

  it('another PID namespace, lock kept fresh by its owner: refused, naming the pid', async () => {
    const d = fresh();
    writeLock(d, { pid: 7, pidNamespace: 'pid:[1]' });
    const beat = setInterval(() => utimesSync(join(d, LOCK_FILE), new Date(), new Date()), 50);
    try {
      await assert.rejects(
        new DataDirLocker(d, { ...noLost, heartbeatMs: 50, staleMs: 400 }).acquire(),
        (error: Error) => error instanceof UsageError && /in use by another logferry agent \(pid 7 .*keeps its lock fresh/.test(error.message),
      );
    } finally {
      clearInterval(beat);
    }
  });

  it('two agents taking over one stale lock at once: exactly one wins', async () => {
    const d = fresh();
    writeLock(d, { pid: process.pid, startTicks: -1 });
    const results = await Promise.allSettled([new DataDirLocker(d, noLost).acquire(), new DataDirLocker(d, noLost).acquire()]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    for (const r of results) if (r.status === 'fulfilled') r.value.release();
  });

  it('an owner whose lock was taken over is told to stop', async () => {
    const d = fresh();
    let lost: string | undefined;
    const lock = await new DataDirLocker(d, { heartbeatMs: 50, onLost: (m) => (lost = m) }).acquire();
    writeLock(d, { pid: 4242, pidNamespace: 'pid:[2]' });
    await waitFor(() => lost !== undefined, 'onLost', 2000);
    assert.match(lost ?? '', /was taken over by pid 4242 /);
    lock.release();
    assert.equal(JSON.parse(readFileSync(join(d, LOCK_FILE), 'utf8')).pid, 4242, "release leaves the new owner's lock alone");
  });

  it('a lock removed by hand is taken again by its owner, not reported lost', async () => {
    const d = fresh();
    const lock = await new DataDirLocker(d, { ...noLost, heartbeatMs: 30 }).acquire();
    rmSync(join(d, LOCK_FILE));
    await waitFor(() => existsSync(join(d, LOCK_FILE)), 'the lock to be taken again', 2000);
    assert.equal(JSON.parse(readFileSync(join(d, LOCK_FILE), 'utf8')).nonce, lock.owner.nonce);
    lock.release();
  });
});
