#!/usr/bin/env node
// `npm run es`: the tests' Elasticsearch in the foreground on 127.0.0.1:9200 (data in ./.es-data, kept
// between runs), for trying logferry on one machine: `ELASTICSEARCH_HOSTS=http://127.0.0.1:9200 npm start`.
//   npm run es -- [--port N] [--data-dir DIR] [--heap 1g]
//   npm run es -- --prepare     only fetch the jars and compile the launcher (what .ci/run does)
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ES_VERSION, ElasticsearchUnavailable, ensureJars, startElasticsearch } from './es-runtime.mjs';

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.ES_PORT ?? '9200' },
      'data-dir': { type: 'string', default: process.env.ES_DATA_DIR ?? '.es-data' },
      heap: { type: 'string', default: '1g' },
      prepare: { type: 'boolean', default: false },
    },
  }));
} catch (error) {
  process.stderr.write(`npm run es: ${error.message}\nusage: npm run es -- [--port N] [--data-dir DIR] [--heap 1g] [--prepare]\n`);
  process.exit(2);
}
const port = Number(options.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write(`npm run es: --port must be 1-65535, got ${JSON.stringify(options.port)}\n`);
  process.exit(2);
}
const dataDir = resolve(options['data-dir']);

try {
  if (options.prepare) {
    ensureJars({ quiet: true });
    process.exit(0);
  }
  process.stderr.write(`Elasticsearch ${ES_VERSION}: fetching jars with Maven if needed (the first run downloads about 40 MB)...\n`);
  ensureJars({ quiet: false });
  const es = await startElasticsearch({ port, dataDir, clusterName: 'logferry-dev', heap: options.heap });
  process.stderr.write(`Elasticsearch ${ES_VERSION} is up: ${es.url} (data in ${dataDir}, log ${es.logFile}); Ctrl-C stops it\n`);
  process.stderr.write(`try: ELASTICSEARCH_HOSTS=${es.url} npm start\n`);
  // Ctrl-C reaches the JVM too (same process group): its exit is then expected, not an error.
  let stopping = false;
  const stop = () => {
    stopping = true;
    es.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  es.child.on('exit', (code) => {
    if (stopping) return;
    process.stderr.write(`Elasticsearch exited (code ${code}); see ${es.logFile}\n`);
    process.exit(code || 1);
  });
} catch (error) {
  if (!(error instanceof ElasticsearchUnavailable)) throw error;
  process.stderr.write(`npm run es: ${error.message}\n`);
  process.exit(1);
}
