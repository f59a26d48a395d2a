/**
 * A restart races a rotation: recovery finds a checkpointed file still at its path and leaves it to the
 * first scan, but before that scan opens the path the file is rotated away — twice here, so a file the
 * agent never knew sits between the two. Seen in the combined-fault soak as a contiguous run of lost
 * records (a restart while the node's API server and Elasticsearch kept the start slow): the checkpoint of
 * the displaced file was forgotten because its path held another file, and the file in between was
 * never looked for. Real files, the real Tailer.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { ackRecord } from '../../agent/acks.js';
import { InflightBudget } from '../../agent/budget.js';
import { CheckpointStore } from '../../checkpoint/store.js';
import { metadataFromIdentity } from '../../event/metadata.js';
import type { LogRecord } from '../../event/record.js';
import { Tailer, type FileInput } from './tailer.js';

const root = mkdtempSync(join(tmpdir(), 'logferry-restart-rotation-'));
after(() => rmSync(root, { recursive: true, force: true }));

function lines(tag: string, count: number): string {
  let text = '';
  for (let i = 0; i < count; i++) text += `line ${tag}-${i}\n`;
  return text;
}

function input(logs: string, onDescribe: () => void = () => undefined): FileInput {
  return {
    name: 'files',
    patterns: [join(logs, '*.log')],
    readFrom: 'beginning',
    displayPath: (path) => path,
    describe: () => {
      onDescribe();
      return { meta: metadataFromIdentity({ nodeName: 'node-a' }), origin: {}, parser: { format: 'plain' } };
    },
  };
}

function tailer(logs: string, data: string, sink: (records: LogRecord[]) => void, options: { oneshot: boolean; firstStart: boolean; onDescribe?: () => void }) {
  return new Tailer({
    nodeName: 'node-a',
    inputs: [input(logs, options.onDescribe)],
    checkpoints: new CheckpointStore(data),
    budget: new InflightBudget(64 * 1024 * 1024),
    sink: { emit: sink },
    readChunkBytes: 64 * 1024,
    maxRecordBytes: 1024 * 1024,
    rescanIntervalMs: 60_000,
    oneshot: options.oneshot,
    firstStart: options.firstStart,
  });
}

it('a file rotated twice between recovery and the first scan of a restart: every line of the three files is read once', async () => {
  const logs = join(root, 'logs');
  const data = join(root, 'data');
  mkdirSync(logs, { recursive: true });
  const current = join(logs, 'app.log');
  writeFileSync(current, lines('a', 100));

  // First run: the file is opened and read, nothing acknowledged (the output was down), then a stop.
  const first = tailer(logs, data, () => undefined, { oneshot: false, firstStart: true });
  const running = first.start();
  for (let i = 0; i < 200 && first.stats.bytesRead === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(first.stats.bytesRead > 0, 'the first run read the file');
  await first.stop();
  await running;
  first.options.checkpoints.flush(true);

  // An unrelated rotated sibling written since: the restart's recovery looks at it (and asks the input to
  // describe it), which is the moment the rotations below happen — after recovery saw app.log in place.
  writeFileSync(join(logs, 'app.log.1'), lines('d', 10));
  let rotated = false;
  const rotateTwice = () => {
    if (rotated) return;
    rotated = true;
    renameSync(current, join(logs, 'app.log.2')); // the checkpointed file
    writeFileSync(current, lines('b', 20));
    renameSync(current, join(logs, 'app.log.3')); // a file the agent never saw
    writeFileSync(current, lines('c', 30));
  };

  const records: LogRecord[] = [];
  const second = tailer(
    logs,
    data,
    (out) => {
      records.push(...out);
      for (const record of out) ackRecord(record);
    },
    { oneshot: true, firstStart: false, onDescribe: rotateTwice },
  );
  await second.start();

  assert.ok(rotated, 'the rotations happened during the restart');
  const seen = new Map<string, number>();
  for (const record of records) seen.set(record.message, (seen.get(record.message) ?? 0) + 1);
  const expected = [...lines('a', 100).split('\n'), ...lines('b', 20).split('\n'), ...lines('c', 30).split('\n'), ...lines('d', 10).split('\n')].filter(
    Boolean,
  );
  const missing = expected.filter((line) => !seen.has(line));
  const doubled = [...seen].filter(([, n]) => n > 1).map(([line]) => line);
  assert.deepEqual(missing.slice(0, 5), [], `${missing.length} lines missing`);
  assert.deepEqual(doubled, []);
  assert.equal(records.length, expected.length);
});

it('a first start reading from the beginning reads the rotated file beside the current one; reading from the end, neither', async () => {
  for (const readFrom of ['beginning', 'end'] as const) {
    const logs = join(root, `first-${readFrom}`);
    mkdirSync(logs, { recursive: true });
    // the kubelet's last rotated file, still uncompressed, and the current one
    const rotated = join(logs, 'app.log.20261203-101500');
    writeFileSync(rotated, lines('old', 40));
    const anHourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(rotated, anHourAgo, anHourAgo); // written long before the agent first started
    writeFileSync(join(logs, 'app.log'), lines('now', 10));
    const records: LogRecord[] = [];
    const run = tailer(
      logs,
      join(root, `first-${readFrom}-data`),
      (out) => {
        records.push(...out);
        for (const record of out) ackRecord(record);
      },
      { oneshot: true, firstStart: true },
    );
    run.options.inputs[0].readFrom = readFrom;
    await run.start();
    const messages = records.map((r) => r.message).sort();
    if (readFrom === 'beginning') assert.deepEqual(messages, [...lines('now', 10).split('\n'), ...lines('old', 40).split('\n')].filter(Boolean).sort());
    else assert.deepEqual(messages, []);
  }
});
