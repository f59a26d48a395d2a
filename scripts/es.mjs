#!/usr/bin/env node
// `npm run es`: the tests' Elasticsearch in the foreground on 127.0.0.1:9200 (data in ./.es-data), for
// trying logferry on one machine: `ELASTICSEARCH_HOSTS=http://127.0.0.1:9200 npm start`.
import { resolve } from 'node:path';
import { ensureJars, startElasticsearch } from './es-runtime.mjs';

const port = Number(process.env.ES_PORT ?? 9200);
const dataDir = resolve(process.env.ES_DATA_DIR ?? '.es-data');
process.stderr.write('resolving Elasticsearch 7.10.2 with Maven (first run downloads ~100 MB)...\n');
ensureJars({ quiet: false });
const es = await startElasticsearch({ port, dataDir, clusterName: 'logferry-dev', heap: '1g' });
process.stderr.write(`Elasticsearch is up: ${es.url} (data in ${dataDir}); Ctrl-C stops it\n`);
process.stderr.write(`try: ELASTICSEARCH_HOSTS=${es.url} npm start\n`);
const stop = async () => {
  await es.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
es.child.on('exit', (code) => process.exit(code ?? 1));
