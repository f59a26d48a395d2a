/**
 * query_local_store: latency of typical queries over a large local store (default 5,000,000 records).
 * The store is filled directly through LocalStore.insert (the agent's write path minus file reading).
 * Usage: node query-local-store.js <records> <name>
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStore, timestampMicros, type StoredRow } from '../../src/store/local-store.js';
import { LocalStoreBackend } from '../../src/query/local.js';
import { buildQuery } from '../../src/query/query.js';
import { peakRssMb, report } from '../lib/measure.js';

const [recordsArg, name] = process.argv.slice(2);
const total = Number(recordsArg ?? 5_000_000);
const dir = mkdtempSync(join(process.env.LOGFERRY_BENCH_CORPUS ?? join(process.cwd(), '.bench-corpus'), 'store-'));
const store = new LocalStore(dir);
const WORDS = ['GET', 'POST', 'orders', 'healthz', 'cache', 'miss', 'hit', 'latency', 'upstream', 'connection', 'reset', 'retrying', 'payment', 'declined', 'accepted', 'worker'];
const now = Date.now();
const started = process.hrtime.bigint();
for (let n = 0; n < total; n += 10_000) {
  const rows: StoredRow[] = [];
  for (let i = n; i < Math.min(total, n + 10_000); i++) {
    const ts = new Date(now - (total - i) * 10).toISOString();
    const message = `${WORDS[i % 16]} ${WORDS[(i * 7) % 16]} ${WORDS[(i * 13) % 16]} request_id=${(i * 2654435761) >>> 0} took ${i % 900}ms`;
    rows.push({
      id: `b-${i}`, ts: timestampMicros(ts), namespace: `ns-${i % 20}`, pod: `app-${i % 200}-5d8f7c9b6d-x`, container: 'app', node: 'n1',
      level: i % 17 === 0 ? 'error' : 'info', stream: i % 5 === 0 ? 'stderr' : 'stdout', service: null, labels: JSON.stringify({ app: `app-${i % 200}`, tier: i % 2 ? 'web' : 'db' }),
      message, doc: JSON.stringify({ '@timestamp': ts, message, kubernetes: { namespace: `ns-${i % 20}` } }),
    });
  }
  store.insert(rows);
}
const loadSeconds = Number(process.hrtime.bigint() - started) / 1e9;
store.close();
const backend = new LocalStoreBackend(dir);
const cases: Array<[string, string | undefined, Record<string, string | boolean>]> = [
  ['newest 100', undefined, {}],
  ['namespace, last hour', undefined, { namespace: 'ns-3', since: '1h' }],
  ['word', 'declined', {}],
  ['phrase + namespace + 1h', '"payment declined"', { namespace: 'ns-7', since: '1h' }],
  ['level + label selector', undefined, { level: 'error', selector: 'app=app-42' }],
  ['rare word, whole store', 'request_id=123', {}],
];
const timings: string[] = [];
for (const [label, text, flags] of cases) {
  const query = buildQuery(text, { limit: '100', ...flags });
  await backend.search(query); // warm
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
  bytes: 0,
  seconds: Math.round(loadSeconds * 100) / 100,
  recordsPerSecond: Math.round(total / loadSeconds),
  mbPerSecond: 0,
  cpuSecondsPerMillion: 0,
  peakRssMb: Math.round(peakRssMb()),
  notes: timings.join('; '),
});
