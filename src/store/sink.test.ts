import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DocumentEncoder } from '../event/document.js';
import { RecordFlag } from '../event/record.js';
import { AckCounter, fileContext, makeBatch, makeRecord } from '../../test/helpers/records.js';
import { LocalStoreSink } from './sink.js';
import { LocalStore } from './local-store.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'lf-store-'));
}

const file = fileContext('/var/log/containers/web-1_shop_nginx.log', { namespace: 'shop', podName: 'web-1', podUid: 'uid-1', containerName: 'nginx', containerId: 'c'.repeat(64), nodeName: 'n1', labels: { 'app.kubernetes.io/name': 'web' } }, 'p-');

describe('LocalStoreSink', () => {
  it('stores every field of the document and acknowledges after commit', async () => {
    const dir = tempDir();
    try {
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 100_000, maxBytes: 1e12 });
      await sink.start();
      const counter = new AckCounter();
      const batch = counter.batch(123, 1);
      const record = makeRecord(file, { offset: 7, timestamp: '2026-11-24T10:00:00.123456789Z', stream: 'stderr', level: 'error', message: 'boom ✓', json: { user: { id: 7 } }, flags: RecordFlag.TRUNCATED }, batch);
      record.extra = { log: { origin: { file: { name: 'main.go', line: 12 } } }, process: { thread: { id: 3 } } };
      batch.seal();
      sink.write([record]);
      assert.deepEqual(counter.commits, [], 'nothing acknowledged before the transaction commits');
      await sink.flush();
      assert.deepEqual(counter.commits, [123]);
      await sink.shutdown();
      const store = new LocalStore(dir, { readonly: true });
      const row = store.db.prepare('SELECT * FROM logs').get() as Record<string, any>;
      store.close();
      assert.equal(row.id, 'p-7');
      assert.equal(row.ts, Date.parse('2026-11-24T10:00:00Z') * 1000 + 123456);
      assert.deepEqual([row.namespace, row.pod, row.container, row.node, row.level, row.stream], ['shop', 'web-1', 'nginx', 'n1', 'error', 'stderr']);
      assert.deepEqual(JSON.parse(row.labels), { 'app_kubernetes_io/name': 'web' });
      assert.deepEqual(JSON.parse(row.doc), JSON.parse(new DocumentEncoder().encode(record)));
      const doc = JSON.parse(row.doc);
      assert.equal(doc['@timestamp'], '2026-11-24T10:00:00.123456789Z');
      assert.equal(doc.log.origin.file.line, 12);
      assert.deepEqual(doc.log.flags, ['truncated']);
      assert.equal(doc.kubernetes.pod.uid, 'uid-1');
      assert.equal(doc.container.id, 'c'.repeat(64));
      assert.equal(doc.json.user.id, 7);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a replay stores nothing twice and counts duplicates', async () => {
    const dir = tempDir();
    try {
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 100_000, maxBytes: 1e12 });
      await sink.start();
      const counter = new AckCounter();
      const specs = Array.from({ length: 500 }, (_, i) => ({ offset: i * 10, timestamp: '2026-11-24T10:00:00Z', message: `line ${i}` }));
      sink.write(makeBatch(counter, file, specs));
      sink.write(makeBatch(counter, file, specs));
      await sink.flush();
      assert.equal(sink.stats().stored, 500);
      assert.equal(sink.stats().duplicates, 500);
      assert.equal(sink.localStore!.count(), 500);
      await sink.shutdown();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('retention removes records older than the age limit, and the oldest beyond the size limit', async () => {
    const dir = tempDir();
    try {
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 1, maxBytes: 1e12 });
      await sink.start();
      const counter = new AckCounter();
      const old = new Date(Date.now() - 3 * 86_400_000).toISOString();
      const fresh = new Date().toISOString();
      sink.write(makeBatch(counter, file, [0, 1, 2].map((i) => ({ offset: i, timestamp: old, message: `old ${i}` }))));
      sink.write(makeBatch(counter, file, [3, 4].map((i) => ({ offset: i, timestamp: fresh, message: `fresh ${i}` }))));
      await sink.flush();
      sink.runRetention();
      assert.equal(sink.localStore!.count(), 2);
      await sink.shutdown();

      const small = new LocalStoreSink({ dataDir: dir, retentionDays: 1000, maxBytes: 400 * 1024 });
      await small.start();
      small.write(makeBatch(counter, file, Array.from({ length: 3000 }, (_, i) => ({ offset: 1000 + i, timestamp: new Date(Date.now() - 1000 + i).toISOString(), message: `filler ${i} ${'x'.repeat(100)}` }))));
      await small.flush();
      const before = small.localStore!.count();
      for (let i = 0; i < 20; i++) small.runRetention();
      assert.ok(small.localStore!.count() < before, 'size retention deleted rows');
      const kept = small.localStore!.db.prepare("SELECT count(*) AS n, min(message) AS oldest FROM logs WHERE message LIKE 'filler 2999 %'").get() as { n: number };
      assert.ok(small.localStore!.count() > 0, 'not everything was deleted');
      assert.equal(kept.n, 1, 'the newest row is kept');
      assert.ok(small.localStore!.sizeBytes() <= 400 * 1024);
      await small.shutdown();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a store that cannot be written acknowledges nothing, reports it, and recovers', async () => {
    const dir = tempDir();
    const errors: string[] = [];
    try {
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 100_000, maxBytes: 1e12, onError: (m) => errors.push(m) });
      await sink.start();
      // A tiny page limit makes SQLite answer SQLITE_FULL, as a full disk does.
      sink.localStore!.db.pragma('max_page_count = ' + String(sink.localStore!.db.pragma('page_count', { simple: true })));
      const counter = new AckCounter();
      sink.write(makeBatch(counter, file, Array.from({ length: 2000 }, (_, i) => ({ offset: i, timestamp: '2026-11-24T10:00:00Z', message: 'y'.repeat(200) })), 99));
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(counter.commits, [], 'nothing acknowledged while the store is full');
      assert.equal(sink.healthy(), false);
      assert.match(errors[0], /SQLITE_FULL.*full/);
      sink.localStore!.db.pragma('max_page_count = 1073741823');
      await sink.flush();
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(counter.commits, [99]);
      assert.equal(sink.healthy(), true);
      await sink.shutdown();
    } finally {
      chmodSync(dir, 0o755);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
