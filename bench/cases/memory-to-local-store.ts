/**
 * memory_to_local_store: records built in memory (no files, no parsing) pushed through the local store
 * sink — row encoding, the writer thread, transactions, acknowledgements, the in-flight budget — to see
 * the store's own cost. Records arrive the way the tailer produces them: a chunk of ~350 lines from one
 * file, then the next file (50 files). Messages like the file corpus: plain lines with a timestamp and ids,
 * a third JSON.
 * Usage: node memory-to-local-store.js <worker|inline> <records> <name>
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OrderedAcks } from '../../src/agent/acks.js';
import { InflightBudget } from '../../src/agent/budget.js';
import { metadataFromIdentity } from '../../src/event/metadata.js';
import type { FileContext, LogRecord } from '../../src/event/record.js';
import { storePath } from '../../src/store/paths.js';
import { STORE_SHARDS } from '../../src/store/shards.js';
import { LocalStoreSink } from '../../src/store/sink.js';
import { corpusMessage, LEVELS } from '../lib/corpus.js';
import { measure, report } from '../lib/measure.js';

const [mode, recordsArg, name] = process.argv.slice(2);
const total = Number(recordsArg ?? 500_000);
const dir = mkdtempSync(join(process.env.LOGFERRY_BENCH_CORPUS ?? join(process.cwd(), '.bench-corpus'), 'mem-store-'));
const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 7, maxBytes: 2 * 1024 ** 3, worker: mode !== 'inline' });
await sink.start();

const FILES = 50;
const files: FileContext[] = Array.from({ length: FILES }, (_, p) => {
  const path = `/var/log/containers/app-${p}-5d8f7c9b6d-abc${p % 10}_ns-${p % 10}_app-${String(p).padStart(64, '0')}.log`;
  return {
    path,
    pathJson: JSON.stringify(path),
    idPrefix: `m${p}-`,
    meta: metadataFromIdentity({
      namespace: `ns-${p % 10}`,
      podName: `app-${p}-5d8f7c9b6d-abc${p % 10}`,
      podUid: `uid-${p}`,
      containerName: 'app',
      containerId: String(p).padStart(64, '0'),
      nodeName: 'bench',
      labels: { app: `app-${p}` },
    }),
  };
});
const budget = new InflightBudget(8 * 1024 * 1024);
const acks = new OrderedAcks<number>((_position, bytes) => budget.release(bytes));
const CHUNK = 350;
// An hour ago: records older than the retention (7 days) would be deleted as fast as they are written.
const base = Date.now() - 3_600_000;
let bytes = 0;
const result = await measure(name, total, 0, async () => {
  // Record n belongs to file n % FILES; each file is read a chunk at a time, files in turn.
  const perFile = Math.ceil(total / FILES);
  for (let start = 0; start < perFile; start += CHUNK) {
    for (let f = 0; f < FILES; f++) {
      const file = files[f];
      const records: LogRecord[] = [];
      let chunkBytes = 0;
      for (let j = start; j < Math.min(start + CHUNK, perFile); j++) {
        const n = j * FILES + f;
        if (n >= total) break;
        const text = corpusMessage(n);
        chunkBytes += text.length + 40;
        const ms = base + Math.floor(n / 10);
        records.push({
          id: file.idPrefix + n * 200,
          timestamp: new Date(ms).toISOString().slice(0, 20) + String((ms % 1000) * 1_000_000 + (n % 1_000_000)).padStart(9, '0') + 'Z',
          message: text,
          stream: n % 5 ? 'stdout' : 'stderr',
          level: n % 3 === 0 ? LEVELS[n % 6] : undefined,
          offset: n * 200,
          flags: 0,
          file,
          meta: file.meta,
          json: undefined,
          extra: undefined,
          batch: undefined as never,
        });
      }
      if (records.length === 0) continue;
      if (!budget.available(chunkBytes)) await budget.waitForRoom();
      budget.take(chunkBytes);
      bytes += chunkBytes;
      const batch = acks.newBatch(start, chunkBytes);
      for (const record of records) record.batch = batch;
      batch.pending = records.length;
      sink.write(records);
      batch.seal();
    }
  }
  await sink.flush();
});
const stats = sink.stats();
await sink.shutdown();
const dbBytes = Array.from({ length: STORE_SHARDS }, (_, shard) => statSync(storePath(dir, shard)).size).reduce((a, b) => a + b, 0);
rmSync(dir, { recursive: true, force: true });
if (stats.stored !== total) {
  process.stderr.write(`stored ${stats.stored} of ${total}\n`);
  process.exit(1);
}
result.bytes = bytes;
result.mbPerSecond = Math.round((bytes / 1048576 / result.seconds) * 100) / 100;
result.notes = `${mode === 'inline' ? 'transactions on the main thread' : 'writer thread'}; store ${((dbBytes / 1048576) * (1e6 / total)).toFixed(0)} MB per million records`;
report(result);
process.exit(0);
