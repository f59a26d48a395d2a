/**
 * file_to_* cases: a generated node log tree (CRI, mixed plain and JSON messages, 10% partial lines) read
 * by the real agent in --oneshot mode and shipped to a sink. Usage:
 *   node file-pipeline.js <null_bulk|elasticsearch|local_store> <gzip on|off> <records> <case name>
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAgent } from '../../src/agent/agent.js';
import { createLogger } from '../../src/agent/logger.js';
import { loadConfig } from '../../src/config/load.js';
import { generateCorpus } from '../lib/corpus.js';
import { measure, report } from '../lib/measure.js';
import { startNullBulkServer } from '../lib/null-server.js';

const [target, gzipArg, recordsArg, name] = process.argv.slice(2);
const records = Number(recordsArg ?? 1_000_000);
const corpusDir = process.env.LOGFERRY_BENCH_CORPUS ?? join(process.cwd(), '.bench-corpus');
const corpus = generateCorpus({ dir: corpusDir, records, pods: 50 });
const work = mkdtempSync(join(corpusDir, 'run-'));

let esUrl: string | undefined;
let stop: () => Promise<void> | void = () => undefined;
if (target === 'null_bulk') {
  const server = await startNullBulkServer();
  esUrl = server.url;
  stop = () => server.stop();
} else if (target === 'elasticsearch') {
  esUrl = process.env.LOGFERRY_BENCH_ES_URL;
  if (!esUrl) {
    const runtime = (await import(new URL('../../../scripts/es-runtime.mjs', import.meta.url).href)) as {
      startElasticsearch(o: { port: number; dataDir: string; heap?: string }): Promise<{ url: string; stop(): Promise<void> }>;
      freePort(): Promise<number>;
    };
    const es = await runtime.startElasticsearch({ port: await runtime.freePort(), dataDir: join(work, 'es'), heap: '1g' });
    esUrl = es.url;
    stop = () => es.stop();
  }
}

const configFile = join(work, 'config.yaml');
writeFileSync(
  configFile,
  [
    'server:',
    "  address: ''",
    ...(process.env.LOGFERRY_BENCH_INFLIGHT ? ['pipeline:', `  maxInflightBytes: ${process.env.LOGFERRY_BENCH_INFLIGHT}`] : []),
    'inputs:',
    '  components:',
    '    enabled: false',
    ...(esUrl ? ['output:', '  elasticsearch:', `    gzip: ${gzipArg === 'on'}`] : []),
  ].join('\n') + '\n',
);
const env: NodeJS.ProcessEnv = { NODE_NAME: 'bench-node' };
if (esUrl) env.ELASTICSEARCH_HOSTS = esUrl;
const config = await loadConfig({ configFile, env, overrides: { dataDir: join(work, 'data') } });
let stored = 0;
const result = await measure(
  name,
  corpus.records,
  corpus.bytes,
  async () => {
    const agent = await startAgent(config, { root: corpus.root, oneshot: true, logger: createLogger('warn') });
    const code = await agent.done;
    const stats = agent.sink.stats();
    stored = stats.stored + stats.duplicates + stats.deadLettered;
    if (code !== 0) throw new Error(`agent exited ${code}`);
  },
  `${corpus.lines} lines, ${corpus.files} files, ${(corpus.bytes / 1048576).toFixed(0)} MB, gzip ${gzipArg}`,
);
await stop();
rmSync(work, { recursive: true, force: true });
if (stored !== corpus.records) {
  process.stderr.write(`delivered ${stored} of ${corpus.records} records\n`);
  process.exit(1);
}
report(result);
process.exit(0);
