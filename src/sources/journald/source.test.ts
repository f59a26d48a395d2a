/**
 * Issue 13, item 3: the journald input against the stand-in journalctl (test/fixtures/bin/journalctl),
 * without an agent or Elasticsearch around it. journalctl exiting mid-stream is restarted after the last
 * entry read (every entry exactly once), a journalctl that keeps failing turns readiness off and is logged
 * once, and a spent budget stops parsing lines with one waiter, however many lines are already buffered.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ackRecord } from '../../agent/acks.js';
import { InflightBudget } from '../../agent/budget.js';
import { CheckpointStore } from '../../checkpoint/store.js';
import type { LogRecord } from '../../event/record.js';
import { JournaldSource, type JournaldOptions } from './source.js';

const FAKE_JOURNALCTL = fileURLToPath(new URL('../../../../test/fixtures/bin/journalctl', import.meta.url));
const FAKE_ENV = ['JOURNAL_FIXTURE', 'JOURNAL_ARGS_LOG', 'JOURNAL_EXIT_AFTER', 'JOURNAL_DOWN_FILE', 'JOURNAL_PID_FILE'];

const cursorOf = (i: number) => `s=unit;i=${i};b=1;m=${i};t=${i};x=${i}`;
function entryLine(i: number, pad = 0): string {
  const message = `seq=${i}` + (pad > 0 ? ' ' + 'x'.repeat(pad) : '');
  return (
    JSON.stringify({
      __CURSOR: cursorOf(i),
      __REALTIME_TIMESTAMP: String(1795500000000000 + i),
      PRIORITY: '6',
      _SYSTEMD_UNIT: 'kubelet.service',
      MESSAGE: message,
    }) + '\n'
  );
}

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('journald source', () => {
  let dir: string;
  let saved: Record<string, string | undefined>;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-journald-unit-'));
    saved = Object.fromEntries(FAKE_ENV.map((name) => [name, process.env[name]]));
    process.env.JOURNAL_FIXTURE = join(dir, 'journal.jsonl');
    process.env.JOURNAL_ARGS_LOG = join(dir, 'args.log');
    process.env.JOURNAL_PID_FILE = join(dir, 'pid');
    process.env.JOURNAL_DOWN_FILE = join(dir, 'down');
  });
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  function source(overrides: Partial<JournaldOptions>, emitted: LogRecord[], ack: boolean) {
    const messages: string[] = [];
    const budget = overrides.budget ?? new InflightBudget(8 * 1024 * 1024);
    const checkpoints = new CheckpointStore(join(dir, 'data'));
    const journald = new JournaldSource({
      nodeName: 'unit-node',
      units: ['kubelet.service'],
      journalctl: FAKE_JOURNALCTL,
      checkpoints,
      budget,
      sink: {
        emit(records) {
          emitted.push(...records);
          // Acknowledged on a later turn, as a sink does.
          if (ack) setImmediate(() => records.forEach(ackRecord));
        },
      },
      onError: (message) => messages.push(message),
      restartBackoff: { minMs: 20, maxMs: 100 },
      downGraceMs: 300,
      // The stand-in is a node script: on a loaded machine starting one can take a second. Only entries
      // read, not time alone, may count as recovery here.
      stableRunMs: 60_000,
      ...overrides,
    });
    return { journald, messages, budget, checkpoints, done: journald.run() };
  }

  const seqs = (records: LogRecord[]) => records.map((r) => Number(/^seq=(\d+)/.exec(r.message)![1]));
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const calls = () =>
    readFileSync(join(dir, 'args.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);
  const afterCursor = (args: string[]) => args.find((a) => a.startsWith('--after-cursor='))?.slice('--after-cursor='.length);

  it('restarts journalctl after it exits, after the last entry read: every entry exactly once', async () => {
    let journal = '';
    for (let i = 1; i <= 10; i++) journal += entryLine(i);
    writeFileSync(process.env.JOURNAL_FIXTURE!, journal);
    process.env.JOURNAL_EXIT_AFTER = '3'; // prints 3 entries and exits 1, every time
    const emitted: LogRecord[] = [];
    const { journald, messages, checkpoints, done } = source({}, emitted, true);

    await until('10 entries', () => emitted.length >= 10);
    await until('the follower to run', () => journald.stats().up);
    assert.deepEqual(seqs(emitted), range(1, 10));
    assert.deepEqual(journald.stats(), { up: true, restarts: 3, recordsRead: 10, errors: 0 });
    assert.deepEqual(calls().map(afterCursor), [undefined, cursorOf(3), cursorOf(6), cursorOf(9)]);
    assert.equal(messages.length, 3, messages.join('\n'));
    for (const message of messages) assert.match(message, /journalctl exited with code 1 \(simulated crash\); restarting it in \d+\.\d s/);
    assert.deepEqual(journald.readiness(), { ready: true });
    await until('the checkpoint', () => checkpoints.get(journald.key)?.cursor === cursorOf(10));

    // journalctl is OOM-killed and then cannot read the journal for a while: not ready, one line for it.
    writeFileSync(process.env.JOURNAL_DOWN_FILE!, '');
    process.kill(Number(readFileSync(process.env.JOURNAL_PID_FILE!, 'utf8')), 'SIGKILL');
    // The reason first names the kill, then (a restart later) the failure that keeps it down.
    await until('not ready, journal unreadable', () => /Input\/output error/.test(journald.readiness().reason ?? ''));
    assert.match(
      journald.readiness().reason!,
      /^journald input: journalctl not running for \d+\.\d s, \d+ restarts: .*exited with code 1 \(Failed to open journal directory: Input\/output error/,
    );
    assert.equal(journald.stats().up, false);
    const restartsWhileDown = journald.stats().restarts;
    await until('more failed restarts', () => journald.stats().restarts >= restartsWhileDown + 2);
    const after = messages.slice(3);
    assert.equal(after.filter((m) => /killed by SIGKILL/.test(m)).length, 1, after.join('\n'));
    assert.equal(after.filter((m) => /Input\/output error/.test(m)).length, 1, 'a failure repeated on each restart is logged once');

    // The journal is back with new entries: they arrive once, and the input is ready again.
    appendFileSync(process.env.JOURNAL_FIXTURE!, entryLine(11) + entryLine(12));
    unlinkSync(process.env.JOURNAL_DOWN_FILE!);
    await until('12 entries', () => emitted.length >= 12);
    await until('ready again', () => journald.readiness().ready && journald.stats().up, 5_000);
    assert.deepEqual(seqs(emitted), range(1, 12));
    assert.equal(new Set(emitted.map((r) => r.id)).size, 12);
    assert.equal(afterCursor(calls().at(-1)!), cursorOf(10));

    await journald.stop();
    await done;
  });

  it('a spent budget stops reading: one waiter, no line parsed beyond it, and the rest follows once acknowledged', async () => {
    let journal = '';
    for (let i = 1; i <= 3000; i++) journal += entryLine(i, 200); // ~300 bytes each, ~900 KB in one write
    writeFileSync(process.env.JOURNAL_FIXTURE!, journal);
    const budget = new InflightBudget(8 * 1024);
    const waiters = () => (budget as unknown as { waiters: unknown[] }).waiters.length;
    const emitted: LogRecord[] = [];
    const { journald, done } = source({ budget }, emitted, false);

    await until('the budget to be spent', () => !budget.available(1));
    await new Promise((resolve) => setTimeout(resolve, 300)); // a pipe full of lines, a 64 KB chunk buffered
    assert.ok(emitted.length > 0 && emitted.length < 40, `${emitted.length} records out with an 8 KB budget`);
    assert.equal(journald.records, emitted.length, 'no line parsed and held beyond what went out');
    assert.ok(budget.inUse <= 8 * 1024 + 400, `${budget.inUse} bytes in flight`);
    assert.equal(waiters(), 1, 'one waiter for room, not one per buffered line');

    let acked = 0;
    let maxWaiters = 0;
    while (acked < 3000) {
      await until('more records', () => emitted.length > acked);
      for (; acked < emitted.length; acked++) ackRecord(emitted[acked]);
      maxWaiters = Math.max(maxWaiters, waiters());
      assert.ok(budget.inUse <= 8 * 1024 + 400, `${budget.inUse} bytes in flight`);
    }
    assert.ok(maxWaiters <= 1);
    assert.deepEqual(seqs(emitted), range(1, 3000));
    await journald.stop();
    await done;
  });

  it('a missing journalctl: one line saying what to do, retried with backoff, not ready', async () => {
    const emitted: LogRecord[] = [];
    const { journald, messages, done } = source({ journalctl: join(dir, 'no-such-journalctl') }, emitted, true);
    await until('not ready', () => !journald.readiness().ready);
    await until('retries', () => journald.stats().restarts >= 3);
    assert.equal(messages.length, 1, messages.join('\n'));
    assert.match(
      messages[0],
      /journalctl is not installed \(.*no-such-journalctl not found\): install systemd's journalctl in the image, or set inputs\.journald\.enabled: false; retrying in \d+\.\d s/,
    );
    assert.match(journald.readiness().reason!, /not installed/);
    assert.equal(journald.stats().up, false);
    await journald.stop();
    await done;
    assert.equal(journald.readiness().ready, true, 'a stopped input does not hold readiness');
  });
});
