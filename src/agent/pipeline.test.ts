import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DocumentEncoder } from '../event/document.js';
import { metadataFromIdentity } from '../event/metadata.js';
import { RecordFlag, type FileContext, type LogRecord } from '../event/record.js';
import { emptySinkStats, type Sink } from '../sinks/sink.js';
import type { Transform } from '../transforms/transform.js';
import { ackRecord, OrderedAcks } from './acks.js';
import { ComponentErrors, FAILING_THRESHOLD } from './component-errors.js';
import { Pipeline } from './pipeline.js';

const file: FileContext = { path: '/var/log/app.log', pathJson: '"/var/log/app.log"', idPrefix: 'f:', meta: metadataFromIdentity({ nodeName: 'n' }) };

/** A sink that stores and acknowledges at once (or throws, when told to). */
class AckingSink implements Sink {
  readonly name = 'memory';
  readonly records: LogRecord[] = [];
  throwOnWrite = false;
  async start(): Promise<void> {}
  write(records: LogRecord[]): void {
    if (this.throwOnWrite) throw new Error('sink bug');
    for (const record of records) {
      this.records.push(record);
      ackRecord(record);
    }
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

/** `n` records in one sealed-after-emit batch at `position`, the way TailedFile hands them over. */
function emitBatch(pipeline: Pipeline, acks: OrderedAcks<number>, position: number, messages: string[]): void {
  const batch = acks.newBatch(position, 100);
  const records: LogRecord[] = messages.map((message, i) => ({
    id: `f:${position + i}`,
    timestamp: '2026-11-24T10:00:00.000Z',
    message,
    stream: undefined,
    level: undefined,
    offset: position + i,
    flags: 0,
    file,
    meta: file.meta,
    json: undefined,
    extra: undefined,
    batch,
  }));
  batch.pending = records.length;
  pipeline.emit(records);
  batch.seal();
}

/** Upper-cases messages; throws (synchronously, for the whole batch) on a message containing BOOM. */
const upper: Transform = {
  name: 'upper',
  process(records) {
    for (const record of records) if (record.message.includes('BOOM')) throw new TypeError(`cannot read properties of undefined (${record.message})`);
    for (const record of records) record.message = record.message.toUpperCase();
    return records;
  },
};

describe('Pipeline: a transform that throws synchronously', () => {
  it('dead-letters only the record it throws on; the batch settles and the checkpoint moves past it', () => {
    const sink = new AckingSink();
    const logged: Array<Record<string, unknown>> = [];
    const errors = new ComponentErrors({ error: (context) => logged.push(context), debug: () => undefined });
    const pipeline = new Pipeline([upper], sink, errors);
    const commits: number[] = [];
    const acks = new OrderedAcks<number>((position) => commits.push(position));

    assert.doesNotThrow(() => emitBatch(pipeline, acks, 100, ['a', 'b BOOM', 'c']));
    emitBatch(pipeline, acks, 200, ['d']);

    assert.deepEqual(commits.at(-1), 200, 'both batches acknowledged in order');
    assert.equal(acks.outstanding, 0);
    assert.deepEqual(
      sink.records.map((r) => [r.message, (r.flags & RecordFlag.COMPONENT_ERROR) !== 0]).sort(),
      [
        ['A', false],
        ['C', false],
        ['D', false],
        ['b BOOM', true],
      ],
      'every record delivered once; the failing one as it was, flagged',
    );
    const dead = sink.records.find((r) => r.message === 'b BOOM')!;
    const document = JSON.parse(new DocumentEncoder().encode(dead)) as { log: { flags: string[] }; error: { type: string; message: string } };
    assert.ok(document.log.flags.includes('component_error'));
    assert.equal(document.error.type, 'component_error');
    assert.match(document.error.message, /^transform:upper threw: TypeError: cannot read properties of undefined/);
    assert.deepEqual(errors.totals(), [['transform:upper', 1]]);
    assert.deepEqual(logged, [
      { component: 'transform:upper', file: '/var/log/app.log', offset: 101, error: 'TypeError: cannot read properties of undefined (b BOOM)' },
    ]);
  });

  it('a transform failing on every record: all dead-lettered, one log line per 30 s, reported as failing', () => {
    const sink = new AckingSink();
    const logged: unknown[] = [];
    const errors = new ComponentErrors({ error: (context) => logged.push(context), debug: () => undefined });
    const pipeline = new Pipeline([upper], sink, errors);
    const acks = new OrderedAcks<number>(() => undefined);
    emitBatch(
      pipeline,
      acks,
      0,
      Array.from({ length: FAILING_THRESHOLD }, (_, i) => `BOOM ${i}`),
    );
    assert.equal(acks.outstanding, 0);
    assert.equal(sink.records.length, FAILING_THRESHOLD);
    assert.equal(logged.length, 1, 'throttled');
    assert.match(errors.failingReason() ?? '', /^transform:upper failing: 10\+ failures in the last 60s \(last error: TypeError/);
  });

  it('records a transform handles after a throw still go through the later transforms', () => {
    const sink = new AckingSink();
    const tag: Transform = { name: 'tag', process: (records) => records.map((r) => ((r.message += '!'), r)) };
    const pipeline = new Pipeline([upper, tag], sink);
    const acks = new OrderedAcks<number>(() => undefined);
    emitBatch(pipeline, acks, 0, ['x', 'BOOM']);
    assert.deepEqual(sink.records.map((r) => r.message).sort(), ['BOOM', 'X!']);
  });

  it('a sink whose write throws does not throw into the source; the failure is counted', () => {
    const sink = new AckingSink();
    sink.throwOnWrite = true;
    const pipeline = new Pipeline([], sink);
    const acks = new OrderedAcks<number>(() => undefined);
    assert.doesNotThrow(() => emitBatch(pipeline, acks, 0, ['a']));
    assert.deepEqual(pipeline.errors.totals(), [['sink:memory', 1]]);
    assert.equal(acks.outstanding, 1, 'not acknowledged: read again after a restart');
  });
});
