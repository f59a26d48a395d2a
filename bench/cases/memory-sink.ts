/**
 * memory_to_* cases: records built in memory (no files, no parsing) pushed through the Elasticsearch sink,
 * to see the sink's own cost. Usage: node memory-sink.js <null_bulk|elasticsearch> <gzip on|off> <records> <name>
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OrderedAcks } from '../../src/agent/acks.js';
import { InflightBudget } from '../../src/agent/budget.js';
import { metadataFromIdentity } from '../../src/event/metadata.js';
import type { FileContext, LogRecord } from '../../src/event/record.js';
import { resolveElasticsearchConfig } from '../../src/sinks/elasticsearch/config.js';
import { ElasticsearchSink } from '../../src/sinks/elasticsearch/sink.js';
import { measure, report } from '../lib/measure.js';
import { startNullBulkServer } from '../lib/null-server.js';

const [target, gzipArg, recordsArg, name] = process.argv.slice(2);
const total = Number(recordsArg ?? 500_000);
let url: string;
let stop: () => unknown;
const work = mkdtempSync(join(tmpdir(), 'lf-bench-'));
if (target === 'null_bulk') {
  const server = await startNullBulkServer();
  url = server.url;
  stop = server.stop;
} else {
  const runtime = (await import(new URL('../../../scripts/es-runtime.mjs', import.meta.url).href)) as {
    startElasticsearch(o: { port: number; dataDir: string; heap?: string }): Promise<{ url: string; stop(): Promise<void> }>;
    freePort(): Promise<number>;
  };
  const es = process.env.LOGFERRY_BENCH_ES_URL ? { url: process.env.LOGFERRY_BENCH_ES_URL, stop: async () => undefined } : await runtime.startElasticsearch({ port: await runtime.freePort(), dataDir: join(work, 'es'), heap: '1g' });
  url = es.url;
  stop = es.stop;
}
const config = { ...resolveElasticsearchConfig({ hosts: [url], gzip: gzipArg === 'on', index: `bench${process.pid}` } as never, {})! };
const sink = new ElasticsearchSink(config);
await sink.start();
const files: FileContext[] = Array.from({ length: 50 }, (_, p) => ({
  path: `/var/log/containers/app-${p}_ns-${p % 10}_app.log`,
  pathJson: JSON.stringify(`/var/log/containers/app-${p}_ns-${p % 10}_app.log`),
  idPrefix: `bench${p}-`,
  meta: metadataFromIdentity({ namespace: `ns-${p % 10}`, podName: `app-${p}`, containerName: 'app', nodeName: 'bench', labels: { app: `app-${p}` } }),
}));
const budget = new InflightBudget(8 * 1024 * 1024);
const acks = new OrderedAcks<number>((_position, bytes) => budget.release(bytes));
let bytes = 0;
const result = await measure(name, total, 0, async () => {
  const chunk = 1000;
  for (let n = 0; n < total; n += chunk) {
    if (!budget.available(chunk * 200)) await budget.waitForRoom();
    const batch = acks.newBatch(n, chunk * 200);
    budget.take(chunk * 200);
    const records: LogRecord[] = [];
    for (let i = 0; i < chunk; i++) {
      const k = n + i;
      const file = files[k % files.length];
      const message = `GET /api/v1/orders/${k} 200 ${k % 900}ms upstream=orders-${k % 7} user=${(k * 2654435761) >>> 0}`;
      bytes += message.length + 60;
      records.push({ id: file.idPrefix + k, timestamp: `2026-11-24T10:00:00.${String(k % 1e9).padStart(9, '0')}Z`, message, stream: 'stdout', level: 'info', offset: k * 100, flags: 0, file, meta: file.meta, json: undefined, extra: undefined, batch });
    }
    batch.pending = records.length;
    sink.write(records);
    batch.seal();
  }
  await sink.flush();
});
result.bytes = bytes;
result.mbPerSecond = Math.round((bytes / 1048576 / result.seconds) * 100) / 100;
result.notes = `gzip ${gzipArg}`;
await sink.shutdown();
await stop();
rmSync(work, { recursive: true, force: true });
if (sink.stats().stored !== total) {
  process.stderr.write(`stored ${sink.stats().stored} of ${total}\n`);
  process.exit(1);
}
report(result);
process.exit(0);
