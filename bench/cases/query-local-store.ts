/**
 * query_local_store: fill a local store with N records (default 5,000,000) through the sink's own row
 * encoding and transactions (the agent's write path minus file reading), then time typical queries.
 * Reports the store's write rate, CPU per million records, its size per million, and query latencies.
 * Usage: node query-local-store.js <records> <name>
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OrderedAcks } from '../../src/agent/acks.js';
import { metadataFromIdentity } from '../../src/event/metadata.js';
import type { FileContext, LogRecord } from '../../src/event/record.js';
import { LocalStoreBackend } from '../../src/query/local.js';
import { buildQuery } from '../../src/query/query.js';
import { LocalStore, RowBuffer, type SourceDescriptor } from '../../src/store/local-store.js';
import { storePath } from '../../src/store/paths.js';
import { RowEncoder } from '../../src/store/rows.js';
import { shardOf, STORE_SHARDS } from '../../src/store/shards.js';
import { peakRssMb, report } from '../lib/measure.js';

const [recordsArg, name] = process.argv.slice(2);
const total = Number(recordsArg ?? 5_000_000);
const dir = mkdtempSync(join(process.env.LOGFERRY_BENCH_CORPUS ?? join(process.cwd(), '.bench-corpus'), 'store-'));
const WORDS = [
  'GET',
  'POST',
  'orders',
  'healthz',
  'cache',
  'miss',
  'hit',
  'latency',
  'upstream',
  'connection',
  'reset',
  'retrying',
  'payment',
  'declined',
  'accepted',
  'worker',
];
const PODS = 200;
const files: FileContext[] = [];
for (let p = 0; p < PODS; p++) {
  const pod = `app-${p}-5d8f7c9b6d-x${p % 10}`;
  const ns = `ns-${p % 20}`;
  const path = `/var/log/containers/${pod}_${ns}_app-${String(p).padStart(64, '0')}.log`;
  const meta = metadataFromIdentity({
    namespace: ns,
    podName: pod,
    podUid: `uid-${p}`,
    containerName: 'app',
    containerId: String(p).padStart(64, '0'),
    nodeName: 'n1',
    labels: { app: `app-${p}`, tier: p % 2 ? 'web' : 'db', 'app.kubernetes.io/part-of': 'bench' },
  });
  files.push({ path, pathJson: JSON.stringify(path), idPrefix: `f${p}-`, meta });
}
const acks = new OrderedAcks<number>(() => undefined);
const batch = acks.newBatch(0, 0);
const now = Date.now();
// The shards as the sink fills them, here one after the other on this thread (the write rate reported
// is one thread's; the agent writes the shards in parallel).
const shards = Array.from({ length: STORE_SHARDS }, (_, shard) => ({ store: new LocalStore(dir, { shard }), encoder: new RowEncoder() }));
const cpuBefore = process.cpuUsage();
const started = process.hrtime.bigint();
const record: LogRecord = {
  id: '',
  timestamp: '',
  message: '',
  stream: 'stdout',
  level: 'info',
  offset: 0,
  flags: 0,
  file: files[0],
  meta: files[0].meta,
  json: undefined,
  extra: undefined,
  batch,
};
for (let n = 0; n < total; n += 20_000) {
  const parts = shards.map(() => ({ rows: new RowBuffer(), sources: [] as SourceDescriptor[] }));
  for (let i = n; i < Math.min(total, n + 20_000); i++) {
    const file = files[i % PODS];
    record.file = file;
    record.meta = file.meta;
    record.offset = i * 120;
    record.id = file.idPrefix + record.offset;
    record.timestamp = new Date(now - (total - i) * 10).toISOString().slice(0, 23) + String(i % 1_000_000).padStart(6, '0') + 'Z';
    record.message = `${WORDS[i % 16]} ${WORDS[(i * 7) % 16]} ${WORDS[(i * 13) % 16]} request_id=${(i * 2654435761) >>> 0} took ${i % 900}ms`;
    record.level = i % 17 === 0 ? 'error' : 'info';
    record.stream = i % 7 === 0 ? 'stderr' : 'stdout';
    const shard = shardOf(record.id);
    shards[shard].encoder.push(record, parts[shard].rows, parts[shard].sources);
  }
  for (const [shard, { rows, sources }] of parts.entries()) {
    shards[shard].store.insert(rows, sources);
    RowBuffer.recycle(rows.numbers, rows.text);
  }
}
const loadSeconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuBefore);
for (const { store } of shards) store.close();
const dbBytes = shards.reduce((sum, _, shard) => sum + statSync(storePath(dir, shard)).size, 0);

const backend = new LocalStoreBackend(dir);
const cases: Array<[string, string | undefined, Record<string, string | boolean>]> = [
  ['newest 100', undefined, {}],
  ['namespace + 1h', undefined, { namespace: 'ns-3', since: '1h' }],
  ['word + namespace + 1h', 'declined', { namespace: 'ns-7', since: '1h' }],
  ['phrase + namespace + 1h', '"POST latency"', { namespace: 'ns-5', since: '1h' }],
  ['word, whole store', 'declined', {}],
  ['rare token, whole store', `request_id=${(1234 * 2654435761) >>> 0}`, {}],
  ['level error', undefined, { level: 'error' }],
  ['stderr + namespace', undefined, { stream: 'stderr', namespace: 'ns-2' }],
  ['level + label selector', undefined, { level: 'error', selector: 'app=app-42' }],
  ['label selector, half the pods', undefined, { selector: 'tier=web' }],
  ['pod glob + exclusion', '-healthz', { pod: 'app-1*' }],
  ['oldest first, namespace', undefined, { namespace: 'ns-5', oldestFirst: true }],
  ['page 50 of a namespace (cursor)', undefined, { namespace: 'ns-9' }],
];
const timings: string[] = [];
for (const [label, text, flags] of cases) {
  let query = buildQuery(text, { limit: '100', ...flags });
  if (label.startsWith('page 50')) {
    for (let page = 1; page < 50; page++) {
      const rows = await backend.search(query);
      query = { ...query, after: rows[rows.length - 1].cursor };
    }
  }
  await backend.search(query); // warm the page cache
  const t0 = process.hrtime.bigint();
  const rows = await backend.search(query);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  timings.push(`${label}: ${ms.toFixed(1)} ms (${rows.length})`);
}
await backend.close();
rmSync(dir, { recursive: true, force: true });
report({
  case: name,
  records: total,
  bytes: dbBytes,
  seconds: Math.round(loadSeconds * 100) / 100,
  recordsPerSecond: Math.round(total / loadSeconds),
  mbPerSecond: 0,
  cpuSecondsPerMillion: Math.round(((cpu.user + cpu.system) / 1e6 / total) * 1e6 * 100) / 100,
  peakRssMb: Math.round(peakRssMb()),
  notes: `store ${(dbBytes / 1048576 / (total / 1e6)).toFixed(0)} MB per million records; ` + timings.join('; '),
});
