/**
 * The null bulk sink as a process of its own (its CPU is not the agent's): a local endpoint that speaks
 * enough of Elasticsearch — `GET /`, templates, `_bulk` with gzip and a correct per-item 201 answer — for
 * the whole sending path to run. Prints {"port":N} on stdout once listening.
 *   node dist/bench/null-bulk-server.js
 */
import { startBulkEndpoint } from './lib/bulk-endpoint.js';

const endpoint = await startBulkEndpoint({ remember: false });
process.stdout.write(JSON.stringify({ port: Number(new URL(endpoint.url).port) }) + '\n');
process.on('SIGTERM', () => void endpoint.close().then(() => process.exit(0)));
