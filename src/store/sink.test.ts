import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DocumentEncoder } from '../event/document.js';
import { RecordFlag } from '../event/record.js';
import { LocalStoreBackend } from '../query/local.js';
import { buildQuery } from '../query/query.js';
import { AckCounter, fileContext, makeBatch, makeRecord } from '../../test/helpers/records.js';
import { LocalStoreSink } from './sink.js';
import { LocalStore, RowBuffer, StoreError, type SourceDescriptor } from './local-store.js';
import { RowEncoder } from './rows.js';
import { storePath, unshardedStorePath } from './paths.js';
import { shardOf, STORE_SHARDS } from './shards.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'lf-store-'));
}

const file = fileContext(
  '/var/log/containers/web-1_shop_nginx-0123.log',
  {
    namespace: 'shop',
    podName: 'web-1',
    podUid: 'uid-1',
    containerName: 'nginx',
    containerId: 'c'.repeat(64),
    nodeName: 'n1',
    labels: { 'app.kubernetes.io/name': 'web', tier: 'frontend' },
  },
  'p-',
);
const kubelet = fileContext('/var/log/kubelet.log', { nodeName: 'n1', serviceName: 'kubelet' }, 'k-');

function storedCount(sink: LocalStoreSink): number {
  return sink.localStores.reduce((sum, store) => sum + store.count(), 0);
}

async function readAll(dir: string, flags: Record<string, string | boolean> = {}) {
  const backend = new LocalStoreBackend(dir);
  try {
    return await backend.search(buildQuery(undefined, { limit: '100000', oldestFirst: true, ...flags }));
  } finally {
    await backend.close();
  }
}

describe('LocalStoreSink', () => {
  it('stores every field of the document, and acknowledges only after the commit', async () => {
    const dir = tempDir();
    try {
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 100_000, maxBytes: 1e12 });
      await sink.start();
      const counter = new AckCounter();
      const batch = counter.batch(123, 3);
      const full = makeRecord(
        file,
        {
          offset: 7,
          timestamp: '2026-11-24T10:00:00.123456789Z',
          stream: 'stderr',
          level: 'error',
          message: 'boom ✓ "quoted"\nsecond line',
          json: { user: { id: 7 }, ok: true },
          flags: RecordFlag.TRUNCATED | RecordFlag.INVALID_UTF8,
        },
        batch,
      );
      full.extra = { log: { origin: { file: { name: 'main.go', line: 12 } } }, process: { thread: { id: 3 } } };
      const bare = makeRecord(file, { offset: 900, timestamp: '2026-11-24T10:00:01Z', message: '' }, batch);
      const component = makeRecord(kubelet, { offset: 0, timestamp: '2026-11-24T10:00:02.5Z', level: 'warning', message: 'node not ready' }, batch);
      batch.seal();
      sink.write([full, bare, component]);
      assert.deepEqual(counter.commits, [], 'nothing acknowledged before the transaction commits');
      await sink.flush();
      assert.deepEqual(counter.commits, [123]);
      assert.equal(sink.stats().stored, 3);
      await sink.shutdown();

      const found = await readAll(dir);
      const encoder = new DocumentEncoder();
      assert.deepEqual(
        found.map((r) => r.id),
        ['p-7', 'p-900', 'k-0'],
      );
      for (const [i, record] of [full, bare, component].entries()) {
        assert.deepEqual(found[i].doc, JSON.parse(encoder.encode(record)), `document of ${record.id}`);
      }
      assert.equal(found[0].tsMicros, Date.parse('2026-11-24T10:00:00Z') * 1000 + 123456);
      assert.equal(found[0].doc['@timestamp'], '2026-11-24T10:00:00.123456789Z', 'nanoseconds kept');
      assert.equal(found[0].doc.kubernetes.labels['app_kubernetes_io/name'], 'web');
      assert.equal(found[2].doc.service.name, 'kubelet');

      const store = new LocalStore(dir, { readonly: true });
      const row = store.db.prepare(`SELECT namespace, pod, container, level, stream FROM logs WHERE id = 'p-7'`).get();
      const source = store.db.prepare(`SELECT s.path, s.node, s.labels FROM logs l JOIN sources s ON s.id = l.source WHERE l.id = 'p-7'`).get() as Record<
        string,
        string
      >;
      store.close();
      assert.deepEqual(row, { namespace: 'shop', pod: 'web-1', container: 'nginx', level: 'error', stream: 'stderr' });
      assert.equal(source.path, file.path);
      assert.equal(source.node, 'n1');
      assert.deepEqual(JSON.parse(source.labels), { 'app_kubernetes_io/name': 'web', tier: 'frontend' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a replay stores nothing twice and counts duplicates, within a run and after a restart', async () => {
    const dir = tempDir();
    try {
      const counter = new AckCounter();
      const specs = Array.from({ length: 500 }, (_, i) => ({
        offset: i * 10,
        timestamp: `2026-11-24T10:00:${String(i % 60).padStart(2, '0')}.5Z`,
        message: `line ${i}`,
      }));
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 100_000, maxBytes: 1e12 });
      await sink.start();
      sink.write(makeBatch(counter, file, specs));
      await sink.flush();
      sink.write(makeBatch(counter, file, specs));
      await sink.flush();
      assert.deepEqual(sink.stats(), { stored: 500, duplicates: 500, deadLettered: 0, failed: 0, retries: 0 });
      await sink.shutdown();

      const again = new LocalStoreSink({ dataDir: dir, retentionDays: 100_000, maxBytes: 1e12, worker: false });
      await again.start();
      again.write(makeBatch(counter, file, [...specs, { offset: 99_999, timestamp: '2026-11-24T11:00:00Z', message: 'new' }]));
      await again.flush();
      assert.equal(again.stats().stored, 1);
      assert.equal(again.stats().duplicates, 500);
      assert.equal(storedCount(again), 501);
      await again.shutdown();
      assert.equal(counter.commits.length, 3, 'every batch acknowledged, duplicates included');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps thousands of records with the same timestamp, in arrival order', async () => {
    const dir = tempDir();
    try {
      const counter = new AckCounter();
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 100_000, maxBytes: 1e12, batchRecords: 1000 });
      await sink.start();
      // More than the 2048 slots of one microsecond, across several transactions.
      const specs = Array.from({ length: 5000 }, (_, i) => ({ offset: i, timestamp: '2026-11-24T10:00:00Z', message: `same time ${i}` }));
      for (let i = 0; i < specs.length; i += 700) sink.write(makeBatch(counter, file, specs.slice(i, i + 700)));
      await sink.flush();
      await sink.shutdown();
      const found = await readAll(dir);
      assert.equal(found.length, 5000);
      assert.deepEqual(
        found.map((r) => r.doc.message),
        specs.map((s) => s.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Retention by age (counted from arrival) is in retention.test.ts.
  it('retention removes the oldest records beyond the size limit', async () => {
    const dir = tempDir();
    try {
      const counter = new AckCounter();
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 1, maxBytes: 1e12, worker: false });
      await sink.start();
      const fresh = new Date().toISOString();
      sink.write(
        makeBatch(
          counter,
          file,
          [3, 4].map((i) => ({ offset: i, timestamp: fresh, message: `fresh ${i}` })),
        ),
      );
      await sink.flush();
      await sink.shutdown();

      // 2 MiB per shard (the filler is one file, so in one shard): the limit is the whole store's.
      const limit = 4 * 1024 * 1024;
      const small = new LocalStoreSink({ dataDir: dir, retentionDays: 1000, maxBytes: limit, batchRecords: 2000, worker: false });
      await small.start();
      const base = Date.now() - 100_000;
      for (let b = 0; b < 10; b++) {
        small.write(
          makeBatch(
            counter,
            file,
            Array.from({ length: 2000 }, (_, i) => ({
              offset: 1000 + b * 2000 + i,
              timestamp: new Date(base + b * 2000 + i).toISOString(),
              message: `filler ${b * 2000 + i} ${'x'.repeat(200)}`,
            })),
          ),
        );
        await small.flush();
      }
      await small.maintain();
      const size = small.localStores.reduce((sum, store) => sum + store.sizeBytes(), 0);
      assert.ok(size <= limit, `store within its limit (${size} bytes)`);
      const kept = storedCount(small);
      assert.ok(kept > 0 && kept < 20_000, `oldest deleted, some kept (${kept})`);
      await small.shutdown();
      const messages = (await readAll(dir)).map((r) => r.doc.message as string);
      assert.deepEqual(messages.slice(-2), ['fresh 3', 'fresh 4'], 'the newest records are kept');
      const numbers = messages.filter((m) => m.startsWith('filler')).map((m) => Number(m.split(' ')[1]));
      assert.equal(numbers.at(-1), 19_999);
      assert.equal(numbers[0], 20_000 - numbers.length, 'what is left is the newest, without gaps');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prunes sources no record refers to, but not those the writer may still use', () => {
    const dir = tempDir();
    try {
      const store = new LocalStore(dir);
      const counter = new AckCounter();
      const rows = new RowBuffer();
      const sources: SourceDescriptor[] = [];
      const encoder = new RowEncoder();
      const gone = fileContext('/var/log/containers/gone_x_y.log', { namespace: 'x', podName: 'gone', containerName: 'y' }, 'g-');
      for (const record of makeBatch(counter, gone, [{ offset: 0, timestamp: '2026-11-20T10:00:00Z', message: 'expired' }]))
        encoder.push(record, rows, sources);
      for (const record of makeBatch(counter, file, [{ offset: 0, timestamp: '2026-11-24T10:00:00Z', message: 'kept' }])) encoder.push(record, rows, sources);
      store.insert(rows, sources);
      store.arrivals.expire(Number.MAX_SAFE_INTEGER); // as if it arrived long ago
      assert.equal(store.arrivals.deleteUnpinned(10, Date.parse('2026-11-22T00:00:00Z') * 1000), 1);
      assert.equal(store.pruneSources(store.sourceIdsInUse()), 0, 'in use by this writer');
      const other = new LocalStore(dir);
      assert.equal(other.pruneSources(new Set()), 1, 'the source of the expired record only');
      other.close();
      assert.deepEqual(store.db.prepare('SELECT pod FROM sources').pluck().all(), ['web-1']);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a full store acknowledges nothing, says what is wrong and where, and recovers', async () => {
    const dir = tempDir();
    const errors: string[] = [];
    try {
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 100_000, maxBytes: 1e12, worker: false, onError: (m) => errors.push(m) });
      await sink.start();
      // A page limit makes SQLite answer SQLITE_FULL, as a full disk does.
      const dbs = sink.localStores.map((store) => store.db);
      for (const db of dbs) db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);
      const counter = new AckCounter();
      sink.write(
        makeBatch(
          counter,
          file,
          Array.from({ length: 2000 }, (_, i) => ({ offset: i, timestamp: '2026-11-24T10:00:00Z', message: 'y'.repeat(200) })),
          99,
        ),
      );
      const flushed = sink.flush().then(() => true);
      assert.equal(await Promise.race([flushed, new Promise((r) => setTimeout(() => r(false), 300))]), false, 'flush waits while the store is full');
      assert.deepEqual(counter.commits, [], 'nothing acknowledged while the store is full');
      assert.equal(sink.healthy(), false);
      assert.equal(sink.stats().stored, 0);
      assert.ok(sink.stats().retries >= 1);
      assert.match(errors[0], /SQLITE_FULL/);
      assert.ok(errors[0].includes(storePath(dir, shardOf('p-0'))), 'names the file');
      assert.match(errors[0], /disk is full.*nothing is lost/);
      assert.equal(errors.length, 1, 'reported once per episode, not per retry');
      for (const db of dbs) db.pragma('max_page_count = 1073741823');
      assert.equal(await flushed, true);
      assert.deepEqual(counter.commits, [99]);
      assert.equal(sink.healthy(), true);
      assert.equal(sink.stats().stored, 2000);
      assert.match(errors[1], /writable again/);
      await sink.shutdown();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a writer thread that dies mid-transaction is restarted and its batch stored once', async () => {
    const dir = tempDir();
    const errors: string[] = [];
    try {
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 100_000, maxBytes: 1e12, onError: (m) => errors.push(m) });
      await sink.start();
      const counter = new AckCounter();
      const specs = Array.from({ length: 30_000 }, (_, i) => ({
        offset: i,
        timestamp: new Date(Date.parse('2026-11-24T10:00:00Z') + i).toISOString(),
        message: `record ${i} ${'z'.repeat(50)}`,
      }));
      sink.write(makeBatch(counter, file, specs, 7));
      // The batch is on its way to (or inside) the writer thread: kill the thread.
      await (sink.shards[shardOf('p-0')] as unknown as { writer: { worker: { terminate(): Promise<number> } } }).writer.worker.terminate();
      await sink.flush();
      assert.deepEqual(counter.commits, [7]);
      assert.equal(sink.stats().stored + sink.stats().duplicates, 30_000);
      assert.equal(sink.healthy(), true);
      assert.match(errors[0], /writer thread exited.*restarted/);
      await sink.shutdown();
      const found = await readAll(dir);
      assert.equal(found.length, 30_000);
      assert.equal(new Set(found.map((r) => r.id)).size, 30_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('routes a record by its id alone: a busy file alternates between shards by MiB, a replay meets its first copy', async () => {
    assert.equal(STORE_SHARDS, 2);
    assert.equal(shardOf('abc-100'), shardOf('abc-200'), 'the same stretch of a file, the same shard');
    assert.notEqual(shardOf('abc-100'), shardOf(`abc-${(1 << 20) + 100}`), 'the next MiB of the file, the other shard');
    assert.equal(shardOf('j0Zy8'), shardOf('j0Zy8'), 'ids without an offset are stable too');
    const dir = tempDir();
    try {
      const counter = new AckCounter();
      // 3 MiB of one file in 300 records, a record every 10 KiB, times in two orders across the shards.
      const specs = Array.from({ length: 300 }, (_, i) => ({
        offset: i * 10_240,
        timestamp: new Date(Date.parse('2026-11-24T10:00:00Z') + (i % 2 ? i : 300 - i)).toISOString(),
        message: `busy ${i}`,
      }));
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 100_000, maxBytes: 1e12, worker: false });
      await sink.start();
      sink.write(makeBatch(counter, file, specs));
      await sink.flush();
      const perShard = sink.localStores.map((store) => store.count());
      assert.ok(
        perShard.every((n) => n > 50),
        `both shards hold records (${perShard})`,
      );
      sink.write(makeBatch(counter, file, specs.slice(100, 200)));
      await sink.flush();
      assert.deepEqual(
        sink.localStores.map((store) => store.count()),
        perShard,
        'a replay adds nothing in either shard',
      );
      assert.equal(sink.stats().duplicates, 100);
      await sink.shutdown();

      // Merged across shards: time order, rowids unique, and pages of 7 that neither skip nor repeat.
      const found = await readAll(dir);
      assert.deepEqual(
        found.map((r) => r.doc.message),
        [...specs].sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.offset - b.offset).map((x) => x.message),
      );
      assert.equal(new Set(found.map((r) => r.cursor.tiebreak)).size, 300);
      const backend = new LocalStoreBackend(dir);
      const paged: string[] = [];
      let after: { tsMicros: number; tiebreak: string } | undefined;
      for (;;) {
        const page = await backend.search({ ...buildQuery(undefined, { limit: '7' }), after });
        if (page.length === 0) break;
        paged.push(...page.map((r) => r.id));
        after = page.at(-1)!.cursor;
      }
      await backend.close();
      assert.deepEqual(paged, found.map((r) => r.id).reverse());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a store from before sharding (one logs.sqlite) is refused with what to do, by the sink and by queries', async () => {
    const dir = tempDir();
    try {
      mkdirSync(join(dir, 'store'));
      writeFileSync(unshardedStorePath(dir), '');
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 7, maxBytes: 1e9 });
      await assert.rejects(sink.start(), /logs\.sqlite was written by an older logferry.*move the store directory away/);
      assert.throws(() => new LocalStoreBackend(dir), /older logferry/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a damaged store file fails at start with the path and what to do', async () => {
    const dir = tempDir();
    try {
      mkdirSync(join(dir, 'store'));
      writeFileSync(storePath(dir), 'this is not a database, just some bytes that fill the header page '.repeat(100));
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 7, maxBytes: 1e9 });
      await assert.rejects(sink.start(), (error: unknown) => {
        assert.ok(error instanceof StoreError);
        assert.ok(error.message.includes(storePath(dir)));
        assert.match(error.message, /SQLITE_NOTADB.*move the store directory away/);
        return true;
      });
      assert.equal(sink.healthy(), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
