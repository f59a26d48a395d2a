// Starting and stopping the test Elasticsearch (7.10.2 in one JVM, codelibs' cluster runner behind the
// launcher in test/elasticsearch/src) — shared by the test harness (test/helpers/elasticsearch-harness.ts),
// the benches and `npm run es`. Plain JS so all of them can use it without a build.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ES_DIR = fileURLToPath(new URL('../test/elasticsearch/', import.meta.url));
export const LIB_DIR = join(ES_DIR, 'lib');
export const ES_VERSION = '7.10.2';
const CLASSES_DIR = join(ES_DIR, 'target', 'classes');
const LAUNCHER_SOURCE = join(ES_DIR, 'src', 'main', 'java', 'io', 'logferry', 'testes', 'Launcher.java');
const LAUNCHER_CLASS = join(CLASSES_DIR, 'io', 'logferry', 'testes', 'Launcher.class');
const LAUNCHER = 'io.logferry.testes.Launcher';

/** Elasticsearch could not be started. */
export class ElasticsearchUnavailable extends Error {}
/** Could not even try: no Java, no Maven, or Maven Central did not serve the jars. */
export class ElasticsearchMissing extends ElasticsearchUnavailable {}

function which(command) {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function prepared() {
  const jars = existsSync(LIB_DIR) && readdirSync(LIB_DIR).some((f) => f.startsWith('elasticsearch-cluster-runner-'));
  return jars && existsSync(LAUNCHER_CLASS) && statSync(LAUNCHER_CLASS).mtimeMs >= statSync(LAUNCHER_SOURCE).mtimeMs;
}

/**
 * The runner's jars in test/elasticsearch/lib and the compiled launcher, made with Maven on first use.
 * Retried: a download from Maven Central can fail transiently. `quiet` keeps Maven's output unless it fails.
 */
export function ensureJars({ quiet = true } = {}) {
  if (!which('java')) throw new ElasticsearchMissing('java is not installed (Elasticsearch for the tests runs in a JVM)');
  if (prepared()) return LIB_DIR;
  if (!which('mvn')) throw new ElasticsearchMissing('mvn is not installed (it fetches the Elasticsearch jars from Maven Central)');
  let last = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const result = spawnSync(
      'mvn',
      ['-q', '-B', '-Dmaven.wagon.http.retryHandler.count=3', '-f', join(ES_DIR, 'pom.xml'), 'compile', 'dependency:copy-dependencies'],
      { encoding: 'utf8', stdio: quiet ? 'pipe' : ['ignore', 'inherit', 'inherit'] },
    );
    if (result.status === 0 && prepared()) return LIB_DIR;
    const errors = `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n').filter((l) => l.includes('ERROR'));
    last = errors
      .slice(0, 3)
      .join(' ')
      .replace(/\u001b\[[0-9;]*m/g, '');
  }
  throw new ElasticsearchMissing(`could not fetch the Elasticsearch jars with Maven: ${last || 'unknown error'}`);
}

function listenOnce(port) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address();
      server.close(() => resolve(bound));
    });
  });
}

/** A free loopback port, chosen by the kernel. */
export function freePort() {
  return listenOnce(0);
}

/** Green or yellow, and the node answering is the one we started (not a stranger on the same port). */
async function healthy(url, clusterName) {
  try {
    const response = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`, { signal: AbortSignal.timeout(3000) });
    if (!response.ok) return false;
    const body = await response.json();
    return body.cluster_name === clusterName && (body.status === 'green' || body.status === 'yellow');
  } catch {
    return false;
  }
}

function logTail(logFile, lines = 20) {
  if (!existsSync(logFile)) return '(no log)';
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => !/^\s+at /.test(l))
    .slice(-lines)
    .join('\n');
}

/**
 * Start one node on 127.0.0.1:`port` with its data under `dataDir` (kept across stop/start; the JVM's
 * output goes to `dataDir`/elasticsearch.log). Resolves when the cluster is yellow or green; rejects
 * with the log's tail if it does not come up. The JVM exits by itself if this process dies.
 */
export async function startElasticsearch({ port, dataDir, clusterName = `logferry-test-${port}`, heap = '512m', timeoutMs = 120_000 }) {
  const lib = ensureJars();
  // Checked first: with the port taken, whatever answers there could pass for this node.
  await listenOnce(port).catch((error) => {
    throw new ElasticsearchUnavailable(`cannot start Elasticsearch on 127.0.0.1:${port}: ${error.code ?? error.message}`);
  });
  mkdirSync(dataDir, { recursive: true });
  const logFile = join(dataDir, 'elasticsearch.log');
  const out = openSync(logFile, 'a');
  const child = spawn(
    'java',
    [
      `-Xms${heap}`,
      `-Xmx${heap}`,
      // Two cores: the serial collector keeps the node light (no parallel GC threads competing with the tests).
      '-XX:+UseSerialGC',
      '-Dlog4j2.disable.jmx=true',
      '-Djava.awt.headless=true',
      // Elasticsearch's own variable for extra JVM options.
      ...(process.env.ES_JAVA_OPTS ?? '').split(/\s+/).filter(Boolean),
      '-cp',
      `${CLASSES_DIR}:${lib}/*`,
      LAUNCHER,
      dataDir,
      String(port),
      clusterName,
    ],
    // stdin stays an open pipe: the launcher exits when it closes, i.e. when this process is gone.
    { stdio: ['pipe', out, out] },
  );
  closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  const exitedPromise = new Promise((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const deadline = Date.now() + timeoutMs;
  let up = false;
  while (!exited && Date.now() < deadline) {
    if ((up = await healthy(url, clusterName))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (!up) {
    const why = exited ? `exited (code ${child.exitCode})` : `was not healthy within ${timeoutMs} ms`;
    child.kill('SIGKILL');
    await exitedPromise;
    throw new ElasticsearchUnavailable(`Elasticsearch on ${url} ${why}; log ${logFile}:\n${logTail(logFile)}`);
  }
  return {
    url,
    port,
    dataDir,
    logFile,
    child,
    /** SIGTERM (the node closes cleanly), SIGKILL after 10 s. Data stays. */
    stop: () => {
      if (exited) return Promise.resolve();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      return exitedPromise.then(() => clearTimeout(timer));
    },
  };
}
