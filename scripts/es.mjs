#!/usr/bin/env node
// `npm run es`: the tests' Elasticsearch in the foreground on 127.0.0.1:9200 (data in ./.es-data, kept
// between runs), for trying logferry on one machine: `ELASTICSEARCH_HOSTS=http://127.0.0.1:9200 npm start`.
//   npm run es -- [--server NAME] [--port N] [--data-dir DIR] [--heap 1g]
//   npm run es -- --prepare [--server NAME,...]   only fetch the jars and compile the launchers: every
//                                                  server, or those named (what .ci/run does)
// NAME: es-7.10 (the default), es-8.19, es-9.5, opensearch-2.19, opensearch-3.9 (or LOGFERRY_TEST_ES_SERVER);
// secured (https with a CA made at start, users and on Elasticsearch an API key, all printed): es-8.19-secure,
// opensearch-2.19-secure.
// Use a data dir per server: a newer server upgrades an older one's data, which the older cannot read back.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { say } from './es-print.mjs';
import { ElasticsearchUnavailable, SERVERS, describeServer, ensureJars, startElasticsearch } from './es-runtime.mjs';

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.ES_PORT ?? '9200' },
      'data-dir': { type: 'string', default: process.env.ES_DATA_DIR ?? '.es-data' },
      heap: { type: 'string', default: '1g' },
      prepare: { type: 'boolean', default: false },
      server: { type: 'string' },
    },
  }));
} catch (error) {
  say(`npm run es: ${error.message}\nusage: npm run es -- [--server NAME] [--port N] [--data-dir DIR] [--heap 1g] [--prepare]`);
  process.exit(2);
}
const port = Number(options.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  say(`npm run es: --port must be 1-65535, got ${JSON.stringify(options.port)}`);
  process.exit(2);
}
const dataDir = resolve(options['data-dir']);

try {
  if (options.prepare) {
    const names = options.server === undefined ? Object.keys(SERVERS) : options.server.split(',').map((name) => describeServer(name).name);
    for (const name of names) ensureJars({ quiet: true, server: name });
    process.exit(0);
  }
  const server = describeServer(options.server);
  const label = `${server.product} ${server.version}`;
  say(`${label}: fetching jars with Maven if needed (the first run downloads 50-70 MB)...`);
  // Quiet: Maven's own output carries raw escape codes even in batch mode; a failure's errors come back
  // in the exception's message, printed below as plain text.
  ensureJars({ quiet: true, server: server.name });
  const es = await startElasticsearch({ port, dataDir, clusterName: 'logferry-dev', heap: options.heap, server: server.name });
  say(`${label} is up: ${es.url} (data in ${dataDir}, log ${es.logFile}); Ctrl-C stops it`);
  if (es.caFile && es.users) {
    const { writer, reader, admin } = es.users;
    say(
      `CA ${es.caFile}; users ${admin.username}/${admin.password} (superuser), ${writer.username}/${writer.password}, ${reader.username}/${reader.password} (read-only)`,
    );
    if (es.apiKey) say(`API key (writer's privileges): ${es.apiKey.encoded}`);
    say(
      `try: ELASTICSEARCH_HOSTS=${es.url} ELASTICSEARCH_CA_FILE=${es.caFile} ELASTICSEARCH_USERNAME=${writer.username} ELASTICSEARCH_PASSWORD=${writer.password} npm start`,
    );
  } else say(`try: ELASTICSEARCH_HOSTS=${es.url} npm start`);
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
    say(`${label} exited (code ${code}); see ${es.logFile}`);
    process.exit(code || 1);
  });
} catch (error) {
  if (!(error instanceof ElasticsearchUnavailable)) throw error;
  say(`npm run es: ${error.message}`);
  process.exit(1);
}
