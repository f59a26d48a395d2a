/**
 * Retention counts from arrival (issue 13, item 4): records whose own time is already older than the
 * retention when they arrive (container logs from nine days ago, imported with `logferry run --oneshot`)
 * are kept, and found, for the whole retention period; records that arrived more than the retention ago
 * are removed, whatever their time. Through the real sink and store, read back with the query layer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { LocalStoreBackend } from '../query/local.js';
import { buildQuery, type QueryFlags } from '../query/query.js';
import { AckCounter, fileContext, makeBatch, type RecordSpec } from '../../test/helpers/records.js';
import { storePath, STORE_SHARDS } from './local-store.js';
import { LocalStoreSink } from './sink.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

const web = fileContext('/var/log/containers/web-1_shop_nginx-0123.log', { namespace: 'shop', podName: 'web-1', containerName: 'nginx', nodeName: 'n1' }, 'w-');
const api = fileContext(
  '/var/log/containers/api-2_billing_api-4567.log',
  { namespace: 'billing', podName: 'api-2', containerName: 'api', nodeName: 'n1' },
  'a-',
);

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'lf-retention-'));
}

/** `count` records of `label`, one a second from `fromMs`, with offsets from `firstOffset` (a MiB apart: both shards). */
function records(label: string, fromMs: number, count: number, firstOffset = 0, stride = 1 << 20): RecordSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    offset: firstOffset + i * stride,
    timestamp: new Date(fromMs + i * 1000).toISOString(),
    message: `${label} line ${i} ${'x'.repeat(80)}`,
  }));
}

async function search(dir: string, text: string | undefined, flags: QueryFlags = {}) {
  const backend = new LocalStoreBackend(dir);
  try {
    return await backend.search(buildQuery(text, { limit: '100000', oldestFirst: true, ...flags }));
  } finally {
    await backend.close();
  }
}

/** How many records of each label the query layer finds. */
async function labels(dir: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const r of await search(dir, undefined)) {
    const label = (r.doc.message as string).split(' ')[0];
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return counts;
}

describe('local store retention counts from arrival', () => {
  it('records nine days old on arrival are stored, kept and found (7-day retention, real clock and writer threads)', async () => {
    const dir = tempDir();
    try {
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 7, maxBytes: 2 * 1024 ** 3 });
      await sink.start();
      const counter = new AckCounter();
      const nineDaysAgo = Date.now() - 9 * DAY;
      sink.write(makeBatch(counter, web, records('imported', nineDaysAgo, 1001)));
      sink.write(makeBatch(counter, api, records('imported', nineDaysAgo + 500, 1001)));
      await sink.flush();
      await sink.maintain(); // a timer pass too, not only the one after each commit
      assert.equal(sink.stats().stored, 2002);
      await sink.shutdown();

      assert.equal((await search(dir, undefined)).length, 2002, 'every imported record is searchable');
      assert.equal((await search(dir, 'imported', { namespace: 'billing' })).length, 1001, 'full text and fields find them');
      // Queries by time use the records' own @timestamp, not their arrival.
      assert.equal((await search(dir, undefined, { since: '1h' })).length, 0);
      assert.equal((await search(dir, undefined, { since: '10d' })).length, 2002);
      const newest = (await search(dir, undefined, { limit: '1', oldestFirst: false }))[0];
      assert.equal(newest.doc['@timestamp'], new Date(nineDaysAgo + 500 + 1000 * 1000).toISOString(), 'newest first by its own time');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('removes what arrived more than the retention ago, whatever its time, and nothing earlier', async () => {
    const dir = tempDir();
    try {
      let now = Date.now();
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 7, maxBytes: 2 * 1024 ** 3, worker: false, now: () => now });
      await sink.start();
      const counter = new AckCounter();
      const t0 = now;
      // Day 0: history from nine days before (late) and live lines (timely).
      sink.write(makeBatch(counter, web, records('oldA', t0 - 9 * DAY, 300)));
      sink.write(makeBatch(counter, api, records('liveA', t0 - 60_000, 60)));
      await sink.flush();
      // Day 3: more history, older than the first import, and live lines.
      now = t0 + 3 * DAY;
      sink.write(makeBatch(counter, web, records('oldB', t0 - 12 * DAY, 300, 300 << 20)));
      sink.write(makeBatch(counter, api, records('liveB', now - 60_000, 60, 60 << 20)));
      await sink.flush();

      // A minute before day 0's records are 7 days in the store: all kept.
      now = t0 + 7 * DAY - 60_000;
      await sink.maintain();
      assert.deepEqual(await labels(dir), { oldB: 300, oldA: 300, liveA: 60, liveB: 60 });

      // Past 7 days (and the hour's margin for timely records): day 0's records go, day 3's stay.
      now = t0 + 7 * DAY + 2 * HOUR;
      await sink.maintain();
      assert.deepEqual(await labels(dir), { oldB: 300, liveB: 60 });
      assert.equal((await search(dir, 'oldA')).length, 0, 'the full-text index forgot them too');

      // A write triggers the same retention as the timer.
      now = t0 + 10 * DAY + 2 * HOUR;
      sink.write(makeBatch(counter, api, records('liveC', now, 5, 200 << 20)));
      await sink.flush();
      assert.deepEqual(await labels(dir), { liveC: 5 });
      await sink.shutdown();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never deletes a record before it has been stored for the retention period (random arrivals and ages)', async () => {
    const dir = tempDir();
    try {
      let seed = 13;
      const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
      let now = Date.now();
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 2, maxBytes: 2 * 1024 ** 3, worker: false, now: () => now });
      await sink.start();
      const counter = new AckCounter();
      const arrived = new Map<string, number>();
      let offset = 0;
      for (let step = 0; step < 60; step++) {
        now += Math.floor(random() * 6 * HOUR);
        // Live lines, a backlog minutes to hours behind, and history up to five days old, in one batch.
        const specs: RecordSpec[] = Array.from({ length: 50 }, () => {
          const age = [0, 10 * 60_000, 2 * HOUR, 5 * DAY][Math.floor(random() * 4)] * random();
          return { offset: offset++, timestamp: new Date(now - age).toISOString(), message: `r${offset}` };
        });
        sink.write(makeBatch(counter, web, specs));
        for (const spec of specs) arrived.set(web.idPrefix + spec.offset, now);
        await sink.flush();
        await sink.maintain();
        const stored = new Set(sink.localStores.flatMap((store) => store.db.prepare('SELECT id FROM logs').pluck().all() as string[]));
        for (const [id, at] of arrived) if (now - at < 2 * DAY) assert.ok(stored.has(id), `${id}, ${((now - at) / HOUR).toFixed(1)} h in the store, is kept`);
      }
      const left = sink.localStores.reduce((sum, store) => sum + store.count(), 0);
      assert.ok(left > 0 && left < arrived.size / 2, `records that arrived long ago went meanwhile (${left} of ${arrived.size} left)`);
      // Everything arrived more than the retention (and the hour of margin) ago: all gone.
      now += 2 * DAY + 2 * HOUR;
      await sink.maintain();
      assert.equal(
        sink.localStores.reduce((sum, store) => sum + store.count(), 0),
        0,
      );
      await sink.shutdown();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('over the size limit, what arrived first goes first: an import into a full store is kept', async () => {
    const dir = tempDir();
    try {
      let now = Date.now();
      // 2 MiB per shard; every record below is in the shard of file `web`'s first MiB.
      const limit = 4 * 1024 * 1024;
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 7, maxBytes: limit, batchRecords: 2000, worker: false, now: () => now });
      await sink.start();
      const counter = new AckCounter();
      const t0 = now;
      // Live lines, a second apart, each batch as it is written.
      for (let b = 0; b < 10; b++) {
        now = t0 + b * 2_000_000;
        sink.write(makeBatch(counter, web, records('live', now - 2_000_000, 2000, b * 2000, 1)));
        await sink.flush();
      }
      const live = (await labels(dir)).live;
      assert.ok(live > 0 && live < 20_000, `the store is full (${live} live records kept)`);
      // Hours later, history from nine days before: older by time than everything stored.
      now = t0 + 20_000_000 + 2 * HOUR;
      sink.write(makeBatch(counter, web, records('imported', t0 - 9 * DAY, 2000, 20_000, 1)));
      await sink.flush();
      await sink.maintain();
      const size = sink.localStores.reduce((sum, store) => sum + store.sizeBytes(), 0);
      assert.ok(size <= limit, `store within its limit (${size} bytes)`);
      const after = await labels(dir);
      assert.equal(after.imported, 2000, 'the import is kept');
      assert.ok(after.live < live, 'records that arrived before it made room');
      await sink.shutdown();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a store written before arrivals were recorded is opened, written and read', async () => {
    const dir = tempDir();
    try {
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 7, maxBytes: 1e9, worker: false });
      await sink.start();
      const counter = new AckCounter();
      sink.write(makeBatch(counter, web, records('before', Date.now() - HOUR, 10)));
      await sink.flush();
      await sink.shutdown();
      // What the previous logferry wrote: the same schema version, without the late_arrivals table.
      for (let shard = 0; shard < STORE_SHARDS; shard++) {
        const db = new Database(storePath(dir, shard));
        db.exec('DROP TABLE late_arrivals');
        db.close();
      }
      assert.equal((await search(dir, undefined)).length, 10, 'read as it is');
      const again = new LocalStoreSink({ dataDir: dir, retentionDays: 7, maxBytes: 1e9, worker: false });
      await again.start();
      again.write(makeBatch(counter, api, records('imported', Date.now() - 9 * DAY, 10)));
      await again.flush();
      await again.maintain();
      await again.shutdown();
      assert.deepEqual(await labels(dir), { imported: 10, before: 10 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
