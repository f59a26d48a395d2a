import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ackRecord, OrderedAcks } from './acks.js';
import type { LogRecord } from '../event/record.js';

function recordsOf(batch: ReturnType<OrderedAcks['newBatch']>, n: number): LogRecord[] {
  batch.pending = n;
  return Array.from({ length: n }, () => ({ batch }) as unknown as LogRecord);
}

describe('OrderedAcks', () => {
  it('commits only up to the oldest batch with unacknowledged records', () => {
    const commits: Array<[number, number]> = [];
    const acks = new OrderedAcks<number>((position, bytes) => commits.push([position, bytes]));
    const first = acks.newBatch(100, 10);
    const firstRecords = recordsOf(first, 2);
    first.seal();
    const second = acks.newBatch(200, 20);
    const secondRecords = recordsOf(second, 1);
    second.seal();
    ackRecord(secondRecords[0]);
    assert.deepEqual(commits, [], 'a later batch must not commit before an earlier one');
    ackRecord(firstRecords[0]);
    assert.deepEqual(commits, []);
    ackRecord(firstRecords[1]);
    assert.deepEqual(commits, [[200, 30]], 'both batches release together, position of the newest');
    assert.equal(acks.outstanding, 0);
    assert.equal(acks.committed, 200);
  });

  it('settles an empty batch at seal time, in order', () => {
    const commits: number[] = [];
    const acks = new OrderedAcks<number>((position) => commits.push(position));
    const a = acks.newBatch(10, 1);
    const aRecords = recordsOf(a, 1);
    a.seal();
    const empty = acks.newBatch(20, 1);
    empty.seal();
    assert.deepEqual(commits, []);
    ackRecord(aRecords[0]);
    assert.deepEqual(commits, [20]);
  });

  it('acknowledgements that arrive before sealing wait for the seal', () => {
    const commits: number[] = [];
    const acks = new OrderedAcks<number>((position) => commits.push(position));
    const batch = acks.newBatch(5, 1);
    const records = recordsOf(batch, 1);
    ackRecord(records[0]);
    assert.deepEqual(commits, []);
    batch.seal();
    assert.deepEqual(commits, [5]);
  });
});
