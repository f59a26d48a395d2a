/**
 * Test servers of a named kind (es-8.19, opensearch-2.19, ...) for tests that need a particular one or several:
 * the run's shared server when it is that kind, else one started for the test on its own port and data dir
 * (stop()/start() keep both, for outages). Lists of kinds come from an environment variable so CI can run
 * the full matrix and a developer one kind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { loadRuntime, type ElasticsearchRuntime, type RunningElasticsearch, type TestServerName } from './elasticsearch-harness.js';

export interface ServerOfKind {
  url: string;
  name: TestServerName;
  product: 'Elasticsearch' | 'OpenSearch';
  version: string;
  /** the run's shared server: clean up what the test made; stop()/start() are not allowed */
  shared: boolean;
  /** stop the JVM, keep the data (private servers only) */
  stop(): Promise<void>;
  /** start again on the same port with the same data (no-op while running) */
  start(): Promise<void>;
  /** stop and delete the data (private servers; done by the test's end unless `keep` was asked) */
  close(): Promise<void>;
}

let runtime: ElasticsearchRuntime | undefined;
export async function testRuntime(): Promise<ElasticsearchRuntime> {
  return (runtime ??= await loadRuntime());
}

/** Server kinds named in `variable` (comma-separated names or aliases), else `fallback`. */
export async function serverKinds(variable: string, fallback: TestServerName[]): Promise<TestServerName[]> {
  const rt = await testRuntime();
  const asked = (process.env[variable] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (asked.length === 0) return fallback;
  // `all` = every plain-http kind: the secured ones (https, users) have their own suites (elasticsearch-secured-*.test.ts),
  // and tests taking a list talk to their servers without credentials.
  if (asked.length === 1 && asked[0] === 'all') return (Object.keys(rt.SERVERS) as TestServerName[]).filter((name) => rt.SERVERS[name].security === undefined);
  return asked.map((name) => rt.describeServer(name).name);
}

/**
 * A server of kind `name` for this test (stopped and deleted when the test ends), or the shared one when it
 * is that kind and `privateNode` is not asked for; undefined after marking the test skipped (no Java/Maven
 * outside CI, like the other integration tests).
 */
export async function serverOfKind(
  t: TestContext,
  name: TestServerName,
  /** `anyShared`: the run's shared server will do whatever its kind (the test needs nothing particular) */
  options: { privateNode?: boolean; keep?: boolean; anyShared?: boolean } = {},
): Promise<ServerOfKind | undefined> {
  const rt = await testRuntime();
  const info = rt.describeServer(name);
  const shared = process.env.LOGFERRY_TEST_ES_URL;
  if (shared && options.anyShared === true) {
    const sharedKind = rt.describeServer(process.env.LOGFERRY_TEST_ES_SERVER || undefined);
    const refuse = () => Promise.reject(new Error('the shared test server cannot be stopped'));
    const none = async () => undefined;
    return {
      url: shared,
      name: sharedKind.name,
      product: sharedKind.product,
      version: sharedKind.version,
      shared: true,
      stop: refuse,
      start: refuse,
      close: none,
    };
  }
  if (shared && process.env.LOGFERRY_TEST_ES_SERVER === name && options.privateNode !== true) {
    const refuse = () => Promise.reject(new Error('the shared test server cannot be stopped'));
    return { url: shared, name, product: info.product, version: info.version, shared: true, stop: refuse, start: refuse, close: async () => undefined };
  }
  if (!shared && process.env.LOGFERRY_TEST_ES_SKIP) {
    t.skip(process.env.LOGFERRY_TEST_ES_SKIP);
    return undefined;
  }
  const dataDir = mkdtempSync(join(tmpdir(), `logferry-${name}-`));
  const port = await rt.freePort();
  const clusterName = `logferry-${name.replace(/[^a-z0-9]/g, '')}-${port}`;
  const started = Date.now();
  let current: RunningElasticsearch | undefined;
  try {
    current = await rt.startElasticsearch({ port, dataDir, clusterName, server: name });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    if (error instanceof rt.ElasticsearchMissing && process.env.CI !== 'true') {
      t.skip(`${info.product} ${info.version}: ${error.message.split('\n')[0]}`);
      return undefined;
    }
    throw error;
  }
  t.diagnostic(`${info.product} ${info.version} (${name}) up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const close = async () => {
    await current?.stop();
    current = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  };
  if (options.keep !== true) t.after(close);
  return {
    close,
    url: current.url,
    name,
    product: info.product,
    version: info.version,
    shared: false,
    async stop() {
      const running = current;
      current = undefined;
      await running?.stop();
    },
    async start() {
      current ??= await rt.startElasticsearch({ port, dataDir, clusterName, server: name });
    },
  };
}
