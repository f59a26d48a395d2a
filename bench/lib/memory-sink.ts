/**
 * memory_to_* cases: records made in memory pushed through the Elasticsearch sink under the pipeline's
 * in-flight budget (8 MiB, the default), so what is measured is the sink's own cost: encoding, batching,
 * gzip, HTTP, acknowledgements. Bytes are the encoded NDJSON bodies before compression.
 */
import { OrderedAcks } from '../../src/agent/acks.js';
import { InflightBudget } from '../../src/agent/budget.js';
import type { LogRecord } from '../../src/event/record.js';
import { resolveElasticsearchConfig } from '../../src/sinks/elasticsearch/config.js';
import { ElasticsearchSink } from '../../src/sinks/elasticsearch/sink.js';
import { measure, sampleRss, type BenchResult } from './measure.js';
import { benchFiles, benchRecord } from './records.js';

export interface MemorySinkRun {
  name: string;
  url: string;
  records: number;
  gzip: boolean;
  notes?: string;
}

export async function runMemoryToSink(run: MemorySinkRun): Promise<BenchResult> {
  const config = resolveElasticsearchConfig({ hosts: [run.url], gzip: run.gzip, index: `bench${process.pid}` }, {})!;
  const errors: string[] = [];
  const sink = new ElasticsearchSink(config, { onError: (message, context) => errors.push(`${message} ${JSON.stringify(context)}`) });
  await sink.start();
  const files = benchFiles();
  const budget = new InflightBudget(8 * 1024 * 1024);
  const acks = new OrderedAcks<number>((_position, bytes) => budget.release(bytes));
  const chunk = 1000;
  const stopSampling = sampleRss();
  const result = await measure(run.name, run.records, 0, async () => {
    for (let n = 0; n < run.records; n += chunk) {
      const size = Math.min(chunk, run.records - n);
      // What a source reads for this many lines (~180 bytes each): the budget the pipeline would take.
      const bytes = size * 180;
      if (!budget.available(bytes)) await budget.waitForRoom();
      budget.take(bytes);
      const batch = acks.newBatch(n + size, bytes);
      const records: LogRecord[] = new Array(size);
      for (let i = 0; i < size; i++) records[i] = benchRecord(n + i, files, batch);
      batch.pending = size;
      sink.write(records);
      batch.seal();
    }
    await sink.flush();
  });
  stopSampling();
  const stats = sink.elasticsearchStats();
  await sink.shutdown();
  if (stats.stored + stats.duplicates !== run.records) {
    throw new Error(`stored ${stats.stored} + duplicates ${stats.duplicates} of ${run.records}; ${errors.slice(0, 3).join('; ')}`);
  }
  result.bytes = stats.bytesUncompressed;
  result.mbPerSecond = Math.round((stats.bytesUncompressed / 1048576 / result.seconds) * 100) / 100;
  const ratio = stats.bytesSent > 0 ? (stats.bytesUncompressed / stats.bytesSent).toFixed(1) : '1';
  result.notes = [`gzip ${run.gzip ? `on (${ratio}:1)` : 'off'}`, `${stats.requests} requests`, run.notes].filter(Boolean).join(', ');
  return result;
}
