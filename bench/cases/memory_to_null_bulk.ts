/**
 * memory_to_null_bulk: records made in memory through the Elasticsearch sink to the null bulk endpoint
 * (bench/null-bulk-server.ts, its own process). Usage: node memory_to_null_bulk.js <gzip on|off> <records> <case name>
 */
import { runMemoryToSink } from '../lib/memory-sink.js';
import { report } from '../lib/measure.js';
import { startNullBulkServer } from '../lib/null-server.js';

const [gzipArg = 'on', recordsArg = '500000', name = 'memory_to_null_bulk'] = process.argv.slice(2);
const server = await startNullBulkServer();
try {
  report(await runMemoryToSink({ name, url: server.url, records: Number(recordsArg), gzip: gzipArg === 'on' }));
} finally {
  server.stop();
}
process.exit(0);
