// Starting and stopping the test Elasticsearch — shared by the test harness (test/helpers/elasticsearch-harness.ts),
// the benches and `npm run es`. Plain JS so all of them can use it without a build.
// Several servers, each one child JVM from Maven Central jars with a small launcher (same arguments; the
// Maven projects are modules of test/elasticsearch/pom.xml, whose shared/ folders hold the common code):
//   es-7.10                 test/elasticsearch/es7/                codelibs' cluster runner (Elasticsearch 7.10.2 OSS), Java 17
//   es-8.19                 test/elasticsearch/es8/                Elasticsearch 8.19.21 from the test framework's jars, Java 17
//   es-9.5                  test/elasticsearch/es9/                Elasticsearch 9.5.3, same way, Java 21+
//   opensearch-2.19         test/elasticsearch/opensearch2/        OpenSearch 2.19.6 and its published modules, Java 17
//   opensearch-3.9          test/elasticsearch/opensearch3/        OpenSearch 3.9.0, same way, Java 21+
//   es-8.19-secure          test/elasticsearch/es8-secure/         8.19.21 + x-pack security: HTTPS, users, API keys
//   opensearch-2.19-secure  test/elasticsearch/opensearch2-secure/ OpenSearch 2.19.4 + its security plugin: HTTPS, users
// The secured ones (scripts/es-secure.mjs) answer on https:// with certificates made at start; the running
// server then also carries `caFile` and `users` (and `apiKey` on Elasticsearch).
// The server is an option of startElasticsearch/ensureJars, else LOGFERRY_TEST_ES_SERVER, else DEFAULT_SERVER.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PASSWORDS, httpsJson, prepareSecureNode, setUpUsers } from './es-secure.mjs';

export const ES_DIR = fileURLToPath(new URL('../test/elasticsearch/', import.meta.url));

/**
 * The servers the tests can run against. `marker`: a jar in lib/ that only this version's download has;
 * `java`: the lowest Java major it runs on; `shared`: the folders under test/elasticsearch/shared its module
 * compiles besides its own src (kept in step with its pom.xml: a change there rebuilds the launcher);
 * `main`: the launcher class when not the usual one; `security`: how a secured server is secured.
 */
const SHARED_DIR = join(ES_DIR, 'shared');
export const SERVERS = {
  'es-7.10': { product: 'Elasticsearch', version: '7.10.2', dir: join(ES_DIR, 'es7'), marker: 'elasticsearch-cluster-runner-', java: 17, shared: ['common'] },
  'es-8.19': {
    product: 'Elasticsearch',
    version: '8.19.21',
    dir: join(ES_DIR, 'es8'),
    marker: 'framework-8.19.21.jar',
    java: 17,
    shared: ['common', 'elasticsearch'],
  },
  'es-9.5': {
    product: 'Elasticsearch',
    version: '9.5.3',
    dir: join(ES_DIR, 'es9'),
    marker: 'framework-9.5.3.jar',
    java: 21,
    shared: ['common', 'elasticsearch'],
  },
  'opensearch-2.19': {
    product: 'OpenSearch',
    version: '2.19.6',
    dir: join(ES_DIR, 'opensearch2'),
    marker: 'opensearch-2.19.6.jar',
    java: 17,
    shared: ['common', 'opensearch'],
  },
  'opensearch-3.9': {
    product: 'OpenSearch',
    version: '3.9.0',
    dir: join(ES_DIR, 'opensearch3'),
    marker: 'opensearch-3.9.0.jar',
    java: 21,
    shared: ['common', 'opensearch'],
  },
  'es-8.19-secure': {
    product: 'Elasticsearch',
    version: '8.19.21',
    dir: join(ES_DIR, 'es8-secure'),
    marker: 'x-pack-security-8.19.21.jar',
    java: 17,
    shared: ['common', 'elasticsearch', '../es8/src/main/java'],
    main: 'io.logferry.testes.SecureLauncher',
    security: 'xpack',
  },
  'opensearch-2.19-secure': {
    product: 'OpenSearch',
    version: '2.19.4',
    dir: join(ES_DIR, 'opensearch2-secure'),
    marker: 'opensearch-security-2.19.4.0.jar',
    java: 17,
    shared: ['common', 'opensearch', '../opensearch2/src/main/java'],
    main: 'io.logferry.testes.SecureLauncher',
    security: 'opensearch-security',
  },
};
/** What `npm test`, the benches and `npm run es` start unless told otherwise (the switch is this line). */
export const DEFAULT_SERVER = 'es-7.10';
/** Other names accepted for a server. */
const ALIASES = {
  es7: 'es-7.10',
  'es-7': 'es-7.10',
  es8: 'es-8.19',
  'es-8': 'es-8.19',
  es9: 'es-9.5',
  'es-9': 'es-9.5',
  opensearch2: 'opensearch-2.19',
  'opensearch-2': 'opensearch-2.19',
  opensearch3: 'opensearch-3.9',
  'opensearch-3': 'opensearch-3.9',
  'es8-secure': 'es-8.19-secure',
  'opensearch2-secure': 'opensearch-2.19-secure',
};

/** The default server's version (what callers printed before there were several). */
export const ES_VERSION = SERVERS[DEFAULT_SERVER].version;
/** The default server's jars. */
export const LIB_DIR = join(SERVERS[DEFAULT_SERVER].dir, 'lib');
const LAUNCHER = 'io.logferry.testes.Launcher';

/** Elasticsearch could not be started. */
export class ElasticsearchUnavailable extends Error {}
/** Could not even try: no Java, no Maven, or Maven Central did not serve the jars. */
export class ElasticsearchMissing extends ElasticsearchUnavailable {}

/** The server's canonical name (`es-8.19`), from a name or alias; undefined = LOGFERRY_TEST_ES_SERVER or the default. */
export function serverName(name) {
  const asked = (name ?? process.env.LOGFERRY_TEST_ES_SERVER ?? '').trim() || DEFAULT_SERVER;
  const canonical = SERVERS[asked] ? asked : ALIASES[asked];
  if (!canonical) throw new ElasticsearchUnavailable(`unknown test server ${JSON.stringify(asked)}: one of ${Object.keys(SERVERS).join(', ')}`);
  return canonical;
}

/** `{ name, product, version, dir, lib, java, ... }` for a server name or alias (see serverName). */
export function describeServer(name) {
  const canonical = serverName(name);
  const server = SERVERS[canonical];
  return { name: canonical, main: LAUNCHER, ...server, lib: join(server.dir, 'lib'), classes: join(server.dir, 'target', 'classes') };
}

function which(command) {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** The major version of a JDK's java (`release` file, else `java -version`); 0 when unknown. */
function javaMajor(javaBin) {
  const release = join(javaBin, '..', '..', 'release');
  let text = existsSync(release) ? readFileSync(release, 'utf8') : '';
  if (!/JAVA_VERSION=/.test(text)) text = spawnSync(javaBin, ['-version'], { encoding: 'utf8' }).stderr ?? '';
  const match = /version[=\s]+"(?:1\.)?(\d+)/i.exec(text) ?? /JAVA_VERSION="(?:1\.)?(\d+)/.exec(text);
  return match ? Number(match[1]) : 0;
}

const javaCache = new Map();
/**
 * A java binary of at least `major`: `java` on PATH when it is new enough (the 17 servers always use it, as
 * before), else LOGFERRY_TEST_JAVA_HOME, else the newest JDK under /usr/lib/jvm (this machine kind has
 * Temurin 25 there beside the system's OpenJDK 17).
 */
export function findJava(major = 17) {
  if (javaCache.has(major)) return javaCache.get(major);
  const onPath = which('java');
  let found;
  if (onPath && (major <= 17 || javaMajor(onPath) >= major)) found = onPath;
  const chosen = process.env.LOGFERRY_TEST_JAVA_HOME ? join(process.env.LOGFERRY_TEST_JAVA_HOME, 'bin', 'java') : undefined;
  if (!found && chosen && existsSync(chosen) && javaMajor(chosen) >= major) found = chosen;
  const candidates = [];
  if (existsSync('/usr/lib/jvm')) {
    for (const entry of readdirSync('/usr/lib/jvm')) candidates.push(join('/usr/lib/jvm', entry, 'bin', 'java'));
  }
  if (!found) {
    const usable = candidates
      .filter((bin) => existsSync(bin))
      .map((bin) => ({ bin, major: javaMajor(bin) }))
      .filter((c) => c.major >= major);
    usable.sort((a, b) => b.major - a.major);
    found = usable[0]?.bin;
  }
  javaCache.set(major, found);
  return found;
}

function newestSource(dir) {
  let newest = 0;
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.java')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(dir);
  return newest;
}

function prepared(server) {
  const jars = existsSync(server.lib) && readdirSync(server.lib).some((f) => f.startsWith(server.marker));
  const launcherClass = join(server.classes, ...server.main.split('.')) + '.class';
  if (!jars || !existsSync(launcherClass)) return false;
  const sources = [join(server.dir, 'src', 'main', 'java'), ...server.shared.map((dir) => join(SHARED_DIR, dir))];
  return statSync(launcherClass).mtimeMs >= Math.max(...sources.map((dir) => (existsSync(dir) ? newestSource(dir) : 0)));
}

/**
 * A server's jars in its lib/ and its compiled launcher, made with Maven on first use. Retried: a download
 * from Maven Central can fail transiently. `quiet` keeps Maven's output unless it fails. Returns the lib dir.
 */
export function ensureJars({ quiet = true, server: name } = {}) {
  const server = describeServer(name);
  const java = findJava(server.java);
  if (!which('java')) throw new ElasticsearchMissing('java is not installed (Elasticsearch for the tests runs in a JVM)');
  if (!java) throw new ElasticsearchMissing(`${server.product} ${server.version} needs Java ${server.java}+, and none was found (set LOGFERRY_TEST_JAVA_HOME)`);
  if (prepared(server)) return server.lib;
  if (!which('mvn')) throw new ElasticsearchMissing('mvn is not installed (it fetches the Elasticsearch jars from Maven Central)');
  // Maven compiles with the JDK it runs on: the Java 21 launchers need that JDK as JAVA_HOME.
  const env = server.java > 17 ? { ...process.env, JAVA_HOME: join(java, '..', '..') } : process.env;
  let last = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const result = spawnSync(
      'mvn',
      ['-q', '-B', '-Dmaven.wagon.http.retryHandler.count=3', '-f', join(server.dir, 'pom.xml'), 'compile', 'dependency:copy-dependencies'],
      { encoding: 'utf8', env, stdio: quiet ? 'pipe' : ['ignore', 'inherit', 'inherit'] },
    );
    if (result.status === 0 && prepared(server)) return server.lib;
    const errors = `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n').filter((l) => l.includes('ERROR'));
    last = errors
      .slice(0, 3)
      .join(' ')
      .replace(/\u001b\[[0-9;]*m/g, '');
  }
  throw new ElasticsearchMissing(`could not fetch the ${server.product} ${server.version} jars with Maven: ${last || 'unknown error'}`);
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

/**
 * Green or yellow, and the node answering is the one we started (not a stranger on the same port). A
 * secured node is asked over https, trusting only its CA, as its superuser.
 */
async function healthy(url, clusterName, secure) {
  const path = '/_cluster/health?wait_for_status=yellow&timeout=1s';
  try {
    let status, body;
    if (secure) ({ status, body } = await httpsJson(`${url}${path}`, { ca: secure.ca, auth: secure.auth, timeoutMs: 3000 }));
    else {
      const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(3000) });
      [status, body] = [response.status, response.ok ? await response.json() : undefined];
    }
    if (status !== 200) return false;
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
 * Start one node of `server` (a name from SERVERS or an alias; default LOGFERRY_TEST_ES_SERVER, else
 * DEFAULT_SERVER) on 127.0.0.1:`port` with its data under `dataDir` (kept across stop/start; the JVM's
 * output goes to `dataDir`/elasticsearch.log). Resolves when the cluster is yellow or green; rejects
 * with the log's tail if it does not come up. The JVM exits by itself if this process dies.
 */
export async function startElasticsearch({ port, dataDir, clusterName = `logferry-test-${port}`, heap = '512m', timeoutMs = 120_000, server: name }) {
  const server = describeServer(name);
  const lib = ensureJars({ server: server.name });
  const java = findJava(server.java);
  // Checked first: with the port taken, whatever answers there could pass for this node.
  await listenOnce(port).catch((error) => {
    throw new ElasticsearchUnavailable(`cannot start ${server.product} on 127.0.0.1:${port}: ${error.code ?? error.message}`);
  });
  mkdirSync(dataDir, { recursive: true });
  const secured = server.security ? prepareSecureNode(server, dataDir) : undefined;
  const logFile = join(dataDir, 'elasticsearch.log');
  const out = openSync(logFile, 'a');
  const child = spawn(
    java,
    [
      `-Xms${heap}`,
      `-Xmx${heap}`,
      // Two cores: the serial collector keeps the node light (no parallel GC threads competing with the tests).
      '-XX:+UseSerialGC',
      '-Dlog4j2.disable.jmx=true',
      '-Djava.awt.headless=true',
      // Java 22+ warns at every start about Lucene's and netty's native access unless it is allowed.
      ...(server.java > 17 ? ['--enable-native-access=ALL-UNNAMED'] : []),
      // Elasticsearch's own variable for extra JVM options.
      ...(process.env.ES_JAVA_OPTS ?? '').split(/\s+/).filter(Boolean),
      '-cp',
      `${server.classes}:${lib}/*`,
      server.main,
      dataDir,
      String(port),
      clusterName,
      ...(secured?.settings ?? []),
    ],
    // stdin stays an open pipe: the launcher exits when it closes, i.e. when this process is gone.
    { stdio: ['pipe', out, out] },
  );
  closeSync(out);
  const url = `${secured ? 'https' : 'http'}://127.0.0.1:${port}`;
  const probe = secured && {
    ca: readFileSync(secured.caFile),
    auth: { username: server.security === 'xpack' ? 'elastic' : 'admin', password: PASSWORDS.admin },
  };
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
    if ((up = await healthy(url, clusterName, probe))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (!up) {
    const why = exited ? `exited (code ${child.exitCode})` : `was not healthy within ${timeoutMs} ms`;
    child.kill('SIGKILL');
    await exitedPromise;
    throw new ElasticsearchUnavailable(`${server.product} ${server.version} on ${url} ${why}; log ${logFile}:\n${logTail(logFile)}`);
  }
  let access = {};
  if (secured) {
    try {
      access = { caFile: secured.caFile, ...(await setUpUsers(server, url, secured.caFile)) };
    } catch (error) {
      child.kill('SIGKILL');
      await exitedPromise;
      throw new ElasticsearchUnavailable(`${server.product} ${server.version} on ${url}: setting up the test users failed: ${error.message}`);
    }
  }
  return {
    url,
    port,
    dataDir,
    /** canonical name, e.g. `es-8.19` */
    server: server.name,
    product: server.product,
    version: server.version,
    logFile,
    child,
    /** secured servers: the CA file, `users` ({ admin, writer, reader }: { username, password }), `apiKey` ({ id, encoded }, Elasticsearch) */
    ...access,
    /** SIGTERM (the node closes cleanly), SIGKILL after 10 s. Data stays. */
    stop: () => {
      if (exited) return Promise.resolve();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      return exitedPromise.then(() => clearTimeout(timer));
    },
  };
}
