// Starting and stopping the test Elasticsearch (one JVM, codelibs' cluster runner) — shared by the test
// harness (test/helpers/elasticsearch-harness.ts) and `npm run es`. Plain JS so both can use it unbuilt.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ES_DIR = fileURLToPath(new URL('../test/elasticsearch/', import.meta.url));
export const LIB_DIR = join(ES_DIR, 'lib');
const RUNNER_CLASS = 'org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner';

export class ElasticsearchUnavailable extends Error {}

function which(command) {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** The runner's jars in test/elasticsearch/lib, fetched with Maven on first use (retried: the network can blip). */
export function ensureJars({ quiet = true } = {}) {
  const ready = () => existsSync(LIB_DIR) && readdirSync(LIB_DIR).some((f) => f.startsWith('elasticsearch-cluster-runner-'));
  if (ready()) return LIB_DIR;
  if (!which('java')) throw new ElasticsearchUnavailable('java is not installed (Elasticsearch for the tests runs in a JVM)');
  if (!which('mvn')) throw new ElasticsearchUnavailable('mvn is not installed (it fetches the Elasticsearch jars from Maven Central)');
  let last = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const result = spawnSync('mvn', ['-q', '-B', '-f', join(ES_DIR, 'pom.xml'), 'dependency:copy-dependencies'], {
      encoding: 'utf8',
      stdio: quiet ? 'pipe' : 'inherit',
    });
    if (result.status === 0 && ready()) return LIB_DIR;
    last = `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n').filter((l) => l.includes('ERROR')).slice(0, 3).join(' ');
  }
  throw new ElasticsearchUnavailable(`could not fetch the Elasticsearch jars with Maven: ${last || 'unknown error'}`);
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free loopback port the runner accepts: it only takes HTTP ports up to 9299 (its maxHttpPort), so pick
 * one at random in 9201-9298 (random, so parallel runs rarely race for the same one).
 */
export async function freePort() {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 9201 + Math.floor(Math.random() * 98);
    if (await portIsFree(port)) return port;
  }
  throw new ElasticsearchUnavailable('no free port in 9201-9298 for Elasticsearch');
}

async function healthy(url) {
  try {
    const response = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`);
    if (!response.ok) return false;
    const body = await response.json();
    return body.status === 'green' || body.status === 'yellow';
  } catch {
    return false;
  }
}

/**
 * Start one node on 127.0.0.1:`port` with its data under `dataDir` (kept across stop/start).
 * Resolves when the cluster is yellow or green; rejects with the log's tail if it does not come up.
 */
export async function startElasticsearch({ port, dataDir, clusterName = `logferry-test-${port}`, heap = '512m', timeoutMs = 90_000 }) {
  // A cluster name of its own: nodes on one machine discover each other (ports 9300-9305), and a node must
  // never join another run's cluster.
  const lib = ensureJars();
  mkdirSync(dataDir, { recursive: true });
  const logFile = join(dataDir, 'elasticsearch.log');
  const out = openSync(logFile, 'a');
  // The runner listens on baseHttpPort + node number.
  const child = spawn(
    'java',
    [
      `-Xms${heap}`,
      `-Xmx${heap}`,
      '-XX:+UseSerialGC',
      '-Dlog4j2.disable.jmx=true',
      '-cp',
      `${lib}/*`,
      RUNNER_CLASS,
      '-basePath',
      dataDir,
      '-numOfNode',
      '1',
      '-baseHttpPort',
      String(port - 1),
      '-clusterName',
      clusterName,
    ],
    { stdio: ['ignore', out, out], detached: false },
  );
  closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) break;
    if (await healthy(url)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (exited || !(await healthy(url))) {
    child.kill('SIGKILL');
    const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
    throw new ElasticsearchUnavailable(`Elasticsearch did not become healthy on ${url} within ${timeoutMs} ms; log ${logFile}:\n${tail}`);
  }
  // Disk watermarks off: CI disks can be fuller than Elasticsearch's defaults like.
  await fetch(`${url}/_cluster/settings`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ persistent: { 'cluster.routing.allocation.disk.threshold_enabled': false } }),
  });
  return {
    url,
    port,
    dataDir,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}
