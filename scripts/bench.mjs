#!/usr/bin/env node
// `npm run bench [case ...]`: build, then run each case in its own node process (so peak RSS is the
// case's own) and print a table. Cases are named <source>_to_<sink>.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist', 'bench', 'cases');
const RECORDS = process.env.LOGFERRY_BENCH_RECORDS ?? '1000000';
const CASES = {
  file_to_null_bulk: ['file-pipeline.js', 'null_bulk', 'off', RECORDS],
  file_to_null_bulk_gzip: ['file-pipeline.js', 'null_bulk', 'on', RECORDS],
  file_to_elasticsearch: ['file-pipeline.js', 'elasticsearch', 'on', RECORDS],
  file_to_local_store: ['file-pipeline.js', 'local_store', 'off', RECORDS],
  // Records made in memory through the Elasticsearch sink alone; gzip on is the default configuration.
  memory_to_null_bulk: ['memory_to_null_bulk.js', 'on', process.env.LOGFERRY_BENCH_MEMORY_RECORDS ?? '500000'],
  memory_to_null_bulk_nogzip: ['memory_to_null_bulk.js', 'off', process.env.LOGFERRY_BENCH_MEMORY_RECORDS ?? '500000'],
  memory_to_elasticsearch: ['memory_to_elasticsearch.js', 'on', process.env.LOGFERRY_BENCH_ES_RECORDS ?? '300000'],
  memory_to_elasticsearch_nogzip: ['memory_to_elasticsearch.js', 'off', process.env.LOGFERRY_BENCH_ES_RECORDS ?? '300000'],
  // The local store alone: records made in memory, transactions on the writer thread as in the agent.
  memory_to_local_store: ['memory-to-local-store.js', 'worker', process.env.LOGFERRY_BENCH_MEMORY_RECORDS ?? '500000'],
  // The file parser alone over in-memory CRI lines shaped like the file corpus.
  parse_cri: ['parse-cri.js', RECORDS],
  enrich_kubernetes: ['enrich-kubernetes.js', '1000000'],
  query_local_store: ['query-local-store.js', process.env.LOGFERRY_BENCH_STORE_RECORDS ?? '5000000'],
};

// The heap cap the DaemonSet sets (NODE_OPTIONS): the agent's live data is bounded by its in-flight budget,
// so a cap only stops V8 from letting garbage pile up (measured: peak RSS ~200 MB without, ~136 MB with).
const NODE_FLAGS = ['--max-old-space-size=96'];

const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(CASES);
const results = [];
for (const name of names) {
  const spec = CASES[name];
  if (!spec) {
    console.error(`unknown case ${name}; cases: ${Object.keys(CASES).join(', ')}`);
    process.exit(2);
  }
  const [script, ...args] = spec;
  process.stderr.write(`running ${name}...\n`);
  const run = spawnSync(process.execPath, [...NODE_FLAGS, join(dist, script), ...args, name], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = (run.stdout ?? '').split('\n');
  const skipped = lines.find((l) => l.startsWith('BENCH_SKIP '));
  if (run.status === 0 && skipped) {
    const { reason } = JSON.parse(skipped.slice(11));
    process.stderr.write(`${name} skipped: ${reason}\n`);
    results.push({ case: name, skipped: reason });
    continue;
  }
  const line = lines.find((l) => l.startsWith('BENCH '));
  if (run.status !== 0 || !line) {
    console.error(`${name} failed (exit ${run.status})`);
    results.push({ case: name, failed: true });
    continue;
  }
  results.push(JSON.parse(line.slice(6)));
}
console.log('\n| case | records | records/s | MB/s | CPU-s per 1M | peak RSS MB | notes |');
console.log('|---|---:|---:|---:|---:|---:|---|');
for (const r of results) {
  if (r.failed) console.log(`| ${r.case} | failed | | | | | |`);
  else if (r.skipped) console.log(`| ${r.case} | skipped | | | | | ${r.skipped} |`);
  else console.log(`| ${r.case} | ${r.records} | ${r.recordsPerSecond} | ${r.mbPerSecond} | ${r.cpuSecondsPerMillion} | ${r.peakRssMb} | ${r.notes ?? ''} |`);
}
if (results.some((r) => r.failed)) process.exit(1);
