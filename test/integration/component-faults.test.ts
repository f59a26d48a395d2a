/**
 * Issue 13 item 1: a parser or transform that throws must not stall a file, lose lines, or leave /readyz
 * green while nothing moves. Real files, the real tailer, checkpoint store, in-flight budget and pipeline;
 * the faults are a transform object that throws and a parser whose clock yields an invalid time (the
 * parser then throws `RangeError: Invalid time value`, as a real bug would). The sink stores in memory.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ackRecord } from '../../src/agent/acks.js';
import { InflightBudget } from '../../src/agent/budget.js';
import { ComponentErrors } from '../../src/agent/component-errors.js';
import { Pipeline } from '../../src/agent/pipeline.js';
import { PipelineHealth } from '../../src/agent/pipeline-health.js';
import { CheckpointStore } from '../../src/checkpoint/store.js';
import { metadataFromIdentity } from '../../src/event/metadata.js';
import { RecordFlag, type LogRecord } from '../../src/event/record.js';
import { emptySinkStats, type Sink } from '../../src/sinks/sink.js';
import { registerFamilies } from '../../src/server/mirrored-metrics.js';
import { Tailer, type FileInput } from '../../src/sources/file/tailer.js';
import type { Transform } from '../../src/transforms/transform.js';

const root = mkdtempSync(join(tmpdir(), 'logferry-faults-'));
after(() => rmSync(root, { recursive: true, force: true }));

const LINES = 3000;
const BUDGET = 64 * 1024;

/** Stores records in memory; acknowledges them on the next turn (like a sink that is up), unless paused. */
class MemorySink implements Sink {
  readonly name = 'memory';
  readonly records: LogRecord[] = [];
  private held: LogRecord[] = [];
  paused = false;
  async start(): Promise<void> {}
  write(records: LogRecord[]): void {
    this.records.push(...records);
    if (this.paused) this.held.push(...records);
    else setImmediate(() => records.forEach(ackRecord));
  }
  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    held.forEach(ackRecord);
  }
  async flush(): Promise<void> {}
  async shutdown(): Promise<void> {}
  stats() {
    return emptySinkStats();
  }
  healthy(): boolean {
    return true;
  }
}

/** Throws for the whole batch when one of its records contains BOOM (a bug on unusual input). */
const throwingTransform: Transform = {
  name: 'enrich-test',
  process(records) {
    for (const record of records) if (record.message.includes('BOOM')) throw new TypeError("Cannot read properties of undefined (reading 'labels')");
    return records;
  },
};

function writeLog(path: string, bad: (n: number) => boolean): void {
  let text = '';
  for (let n = 0; n < LINES; n++) text += `line ${String(n).padStart(5, '0')} ${bad(n) ? 'BOOM ' : ''}${'x'.repeat(40)}\n`;
  writeFileSync(path, text);
}

function setup(name: string, parserNow: (path: string) => (() => number) | undefined) {
  const dir = join(root, name);
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const checkpoints = new CheckpointStore(join(dir, 'data'));
  const input: FileInput = {
    name: 'files',
    patterns: [join(logs, '*.log')],
    readFrom: 'beginning',
    displayPath: (path) => path,
    describe: (path) => ({ meta: metadataFromIdentity({ nodeName: 'n1' }), origin: {}, parser: { format: 'plain', now: parserNow(path) } }),
  };
  const sink = new MemorySink();
  const errors = new ComponentErrors(undefined);
  const pipeline = new Pipeline([throwingTransform], sink, errors);
  const budget = new InflightBudget(BUDGET);
  const options = {
    nodeName: 'n1',
    inputs: [input],
    checkpoints,
    budget,
    sink: pipeline,
    readChunkBytes: 4096,
    maxRecordBytes: 1 << 20,
    rescanIntervalMs: 200,
    firstStart: true,
  };
  return { logs, checkpoints, sink, errors, pipeline, budget, options };
}

function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a throwing transform and a throwing parser (issue 13 item 1)', () => {
  it('every line arrives exactly once, the failing ones dead-lettered; checkpoints reach the end; budget released', async () => {
    const transformBad = (n: number) => n === 700 || n === 1701 || n === 2999;
    let clockCalls = 0;
    // The parser of parser.log reads a clock per line; on these calls the clock is broken.
    const brokenCalls = new Set([501, 1502, 2403]);
    const env = setup('both', (path) => (path.endsWith('parser.log') ? () => (brokenCalls.has(++clockCalls) ? Number.NaN : Date.now()) : undefined));
    writeLog(join(env.logs, 'transform.log'), transformBad);
    writeLog(join(env.logs, 'parser.log'), () => false);
    const tailer = new Tailer({ ...env.options, oneshot: true });
    // On a pipeline that stalls, the in-flight budget never frees and a oneshot run never ends.
    await within(20_000, tailer.start(), 'reading both files (a stalled pipeline never does)');
    await tailer.stop();
    await until(() => env.budget.inUse === 0, 5000, 'every batch acknowledged');

    for (const name of ['transform.log', 'parser.log']) {
      const path = join(env.logs, name);
      const records = env.sink.records.filter((r) => r.file.path === path);
      const lines = records.map((r) => Number(/^line (\d+)/.exec(r.message)![1])).sort((a, b) => a - b);
      assert.deepEqual(
        lines,
        Array.from({ length: LINES }, (_, n) => n),
        `${name}: every line once, none lost, none twice`,
      );
      assert.equal(new Set(records.map((r) => r.id)).size, LINES, `${name}: ids unique`);
      const entry = env.checkpoints.all().find((e) => e.path === path);
      assert.equal(entry?.offset, statSync(path).size, `${name}: checkpoint at the end of the file`);
    }
    const dead = env.sink.records.filter((r) => (r.flags & RecordFlag.COMPONENT_ERROR) !== 0);
    assert.deepEqual(
      dead.map((r) => [r.file.path.endsWith('parser.log') ? 'parser' : 'transform', Number(r.message.slice(5, 10))]).sort(),
      [
        ['parser', 500],
        ['parser', 1501],
        ['parser', 2402],
        ['transform', 1701],
        ['transform', 2999],
        ['transform', 700],
      ].sort(),
      'exactly the records a component threw on are dead letters',
    );
    for (const record of dead)
      assert.match(String((record.extra?.error as { message: string }).message), /^(transform:enrich-test|parser:plain) threw: (TypeError|RangeError)/);
    assert.deepEqual(
      new Map(env.errors.totals()),
      new Map([
        ['parser:plain', 3],
        ['transform:enrich-test', 3],
      ]),
    );
    const health = new PipelineHealth(env.budget, env.errors, 1000);
    assert.deepEqual(health.readiness(), { ready: true }, 'a few dead letters do not make the agent unready');
    const registry = new Registry();
    registerFamilies(registry, health.describeMetrics());
    const metrics = await registry.metrics();
    assert.match(metrics, /^logferry_pipeline_component_errors_total\{component="parser:plain"\} 3$/m);
    assert.match(metrics, /^logferry_pipeline_component_errors_total\{component="transform:enrich-test"\} 3$/m);
  });

  it('a pipeline that holds records without acknowledging them turns readiness red and shows in /metrics', async () => {
    const env = setup('stalled', () => undefined);
    writeLog(join(env.logs, 'app.log'), () => false);
    env.sink.paused = true;
    const health = new PipelineHealth(env.budget, env.errors, 1000);
    const registry = new Registry();
    registerFamilies(registry, health.describeMetrics());
    const tailer = new Tailer({ ...env.options });
    void tailer.start();
    try {
      await until(() => env.budget.inUse >= BUDGET, 5000, 'the budget to fill');
      assert.deepEqual(health.readiness(), { ready: true }, 'a full budget alone is backpressure, not a stall');
      await until(() => !health.readiness().ready, 5000, 'readiness to turn red');
      assert.match(health.readiness().reason ?? '', /^pipeline stalled: in-flight budget full \(\d+\/65536 bytes\) with no acknowledgement for \ds$/);
      assert.match(await registry.metrics(), /^logferry_pipeline_stalled 1$/m);
      env.sink.resume();
      await until(() => health.readiness().ready, 5000, 'readiness to recover once acknowledgements flow');
      assert.match(await registry.metrics(), /^logferry_pipeline_stalled 0$/m);
    } finally {
      await tailer.stop();
    }
  });
});
