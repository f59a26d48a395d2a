/** Bulk bodies: byte-exact bounds, multi-byte text, and lines that can be taken out again. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogRecord } from '../../event/record.js';
import { AckTracker, makeRecords } from '../../../test/helpers/records.js';
import { BufferPool, BulkBatch } from './batcher.js';

const action = (id: string) => `{"create":{"_index":"logstash-2026.11.24","_id":"${id}"}}\n`;

describe('BulkBatch', () => {
  it('never passes its capacity: a record that does not fit is refused whole', () => {
    const pool = new BufferPool(4096);
    const records = makeRecords(200, { tracker: new AckTracker(), message: (n) => 'é✓'.repeat(n % 37) + 'x'.repeat(n % 11) });
    const batches: BulkBatch[] = [];
    const held: LogRecord[][] = [];
    let batch = new BulkBatch(pool, 0, 1);
    let current: LogRecord[] = [];
    for (const record of records) {
      const doc = JSON.stringify({ message: record.message });
      if (!batch.tryAppend(record.batch, action(record.id), doc)) {
        batches.push(batch);
        held.push(current);
        batch = new BulkBatch(pool, 0, 1);
        current = [];
        assert.ok(batch.tryAppend(record.batch, action(record.id), doc));
      }
      current.push(record);
    }
    batches.push(batch);
    held.push(current);
    let total = 0;
    for (const [k, b] of batches.entries()) {
      assert.ok(b.used <= 4096, `body ${b.used} bytes`);
      const text = b.body().toString('utf8');
      assert.equal(Buffer.byteLength(text), b.used, 'valid UTF-8, nothing cut');
      const lines = text.split('\n');
      assert.equal(lines.pop(), '', 'ends with a newline');
      assert.equal(lines.length, b.count * 2);
      for (let i = 0; i < b.count; i++) {
        assert.equal(JSON.parse(b.documentAt(i)).message, held[k][i].message);
        assert.equal(JSON.parse(b.actionAt(i)).create._id, held[k][i].id);
        assert.equal(b.acks[i], held[k][i].batch, "each line keeps its record's acknowledgement");
      }
      total += b.count;
    }
    assert.equal(total, 200);
    assert.ok(batches.length > 3, 'the bound was reached several times');
    // Near-full batches: the refused record would have crossed the capacity.
    for (let k = 0; k < batches.length - 1; k++) {
      const next = batches[k + 1];
      assert.ok(batches[k].used + next.lineBytes(0) > 4096);
    }
  });

  it('a single record larger than the capacity gets a buffer of its own', () => {
    const [record] = makeRecords(1);
    const batch = new BulkBatch(new BufferPool(1024), 0, 1);
    const doc = JSON.stringify({ message: 'x'.repeat(5000) });
    assert.ok(batch.tryAppend(record.batch, action(record.id), doc));
    assert.equal(batch.used, Buffer.byteLength(action(record.id)) + doc.length + 1);
    assert.equal(batch.documentAt(0), doc);
    const [other] = makeRecords(1, { from: 1 });
    assert.equal(batch.tryAppend(other.batch, action(other.id), '{}'), false, 'nothing joins it');
  });

  it('copies single lines into derived batches (retries, splits)', () => {
    const records = makeRecords(5, { tracker: new AckTracker(), message: (n) => `line ${n} ü` });
    const source = new BulkBatch(new BufferPool(1 << 16), 0, 7);
    for (const r of records) source.tryAppend(r.batch, action(r.id), JSON.stringify({ message: r.message }));
    const retry = new BulkBatch(undefined, source.lineBytes(1) + source.lineBytes(3), 7, 1);
    assert.ok(retry.copyFrom(source, 1));
    assert.ok(retry.copyFrom(source, 3));
    assert.equal(retry.used, retry.capacity, 'sized exactly');
    assert.deepEqual(retry.acks, [records[1].batch, records[3].batch]);
    assert.equal(JSON.parse(retry.actionAt(0)).create._id, records[1].id);
    assert.equal(JSON.parse(retry.documentAt(1)).message, 'line 3 ü');
    assert.equal(retry.generation, 7);
    assert.equal(retry.attempt, 1);
    assert.equal(
      retry.body().toString(),
      source
        .body()
        .toString()
        .split('\n')
        .filter((_, i) => i === 2 || i === 3 || i === 6 || i === 7)
        .join('\n') + '\n',
    );
  });

  it('buffers go back to the pool and are reused', () => {
    const pool = new BufferPool(2048, 2);
    const a = new BulkBatch(pool, 0, 1);
    const [record] = makeRecords(1);
    a.tryAppend(record.batch, action(record.id), '{}');
    const buffer = a.body().buffer;
    a.release();
    assert.equal(a.used, 0);
    const b = new BulkBatch(pool, 0, 2);
    b.tryAppend(record.batch, action(record.id), '{}');
    assert.equal(b.body().buffer, buffer);
  });
});
