/**
 * memory_to_elasticsearch: records made in memory through the Elasticsearch sink to a real Elasticsearch
 * (LOGFERRY_BENCH_ES_URL, or a private node; skipped with the reason when there is none).
 * Usage: node memory_to_elasticsearch.js <gzip on|off> <records> <case name>
 */
import { benchElasticsearch } from '../lib/elasticsearch.js';
import { runMemoryToSink } from '../lib/memory-sink.js';
import { report, skip } from '../lib/measure.js';

const [gzipArg = 'on', recordsArg = '300000', name = 'memory_to_elasticsearch'] = process.argv.slice(2);
const es = await benchElasticsearch();
if ('unavailable' in es) {
  skip(name, es.unavailable);
  process.exit(0);
}
try {
  report(await runMemoryToSink({ name, url: es.url, records: Number(recordsArg), gzip: gzipArg === 'on', notes: es.description }));
} finally {
  // A cluster of the user's keeps nothing of the run; a private one goes away whole.
  if (process.env.LOGFERRY_BENCH_ES_URL) await fetch(`${es.url}/bench${process.pid}-*`, { method: 'DELETE' }).catch(() => undefined);
  await es.stop();
}
process.exit(0);
