/**
 * One real Elasticsearch per `npm test` run (scripts/test.mjs calls this once): started on a free loopback
 * port with its data in a temp dir, shared by every test file through LOGFERRY_TEST_ES_URL.
 * Under CI (CI=true) an Elasticsearch that cannot start fails the run. Elsewhere, without Java, Maven or
 * the jars, the integration tests skip with one line saying why; a node that is there but fails to start
 * fails the run (with its log's tail), since that is a real problem to see. LOGFERRY_TEST_ES_URL already set = use that cluster instead.
 * Which server: LOGFERRY_TEST_ES_SERVER (es-7.10, es-8.19, es-9.5, opensearch-2.19, opensearch-3.9), else the
 * runtime's DEFAULT_SERVER; the test files see the choice in LOGFERRY_TEST_ES_SERVER.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The test servers scripts/es-runtime.mjs can start (its SERVERS). */
export type TestServerName = 'es-7.10' | 'es-8.19' | 'es-9.5' | 'opensearch-2.19' | 'opensearch-3.9' | SecuredServerName;
/** The secured ones (https with a CA made at start, users; scripts/es-secure.mjs). */
export type SecuredServerName = 'es-8.19-secure' | 'opensearch-2.19-secure';

export interface TestUser {
  username: string;
  password: string;
}

export interface RunningElasticsearch {
  url: string;
  port: number;
  dataDir: string;
  logFile: string;
  /** canonical server name, e.g. `es-8.19` */
  server: TestServerName;
  product: 'Elasticsearch' | 'OpenSearch';
  version: string;
  /** the JVM */
  child: { pid?: number };
  stop(): Promise<void>;
  /** secured servers: the PEM file of the CA that signed the node's certificate (in the data dir) */
  caFile?: string;
  /** secured servers: the superuser, a writer (what logferry needs) and a read-only user */
  users?: { admin: TestUser; writer: TestUser; reader: TestUser };
  /** secured Elasticsearch: an API key with the writer's privileges; `encoded` = base64 of `id:api_key` */
  apiKey?: { id: string; encoded: string };
}

export interface TestServerInfo {
  name: TestServerName;
  product: 'Elasticsearch' | 'OpenSearch';
  version: string;
  /** lowest Java major it runs on */
  java: number;
  /** secured servers: how (`xpack`, `opensearch-security`) */
  security?: string;
}

/** The plain-JS runtime in scripts/es-runtime.mjs (shared with `npm run es` and the benches). */
export interface ElasticsearchRuntime {
  ES_VERSION: string;
  DEFAULT_SERVER: TestServerName;
  SERVERS: Record<TestServerName, Omit<TestServerInfo, 'name'>>;
  /** name or alias (default: LOGFERRY_TEST_ES_SERVER, else DEFAULT_SERVER) to the server's description; throws ElasticsearchUnavailable for an unknown one */
  describeServer(name?: string): TestServerInfo;
  startElasticsearch(options: {
    port: number;
    dataDir: string;
    clusterName?: string;
    heap?: string;
    timeoutMs?: number;
    server?: TestServerName | string;
  }): Promise<RunningElasticsearch>;
  freePort(): Promise<number>;
  ensureJars(options?: { quiet?: boolean; server?: TestServerName | string }): string;
  ElasticsearchUnavailable: new (message: string) => Error;
  ElasticsearchMissing: new (message: string) => Error;
}

export async function loadRuntime(): Promise<ElasticsearchRuntime> {
  // From dist/test/helpers the scripts folder is three levels up.
  return (await import(new URL('../../../scripts/es-runtime.mjs', import.meta.url).href)) as ElasticsearchRuntime;
}

export async function provideTestElasticsearch({ needed }: { needed: boolean }): Promise<{ env: Record<string, string>; stop(): Promise<void> }> {
  const none = async (): Promise<void> => undefined;
  if (!needed) return { env: {}, stop: none };
  const external = process.env.LOGFERRY_TEST_ES_URL;
  if (external) return { env: { LOGFERRY_TEST_ES_URL: external }, stop: none };
  const runtime = await loadRuntime();
  const dataDir = mkdtempSync(join(tmpdir(), 'logferry-es-'));
  try {
    const started = Date.now();
    const server = runtime.describeServer();
    if (server.security !== undefined) {
      // The test files talk plain http without credentials to the shared server; the secured ones have their own tests.
      throw new Error(
        `LOGFERRY_TEST_ES_SERVER=${server.name}: a secured server cannot be the run's shared one (elasticsearch-secured-*.test.ts start their own)`,
      );
    }
    const es = await runtime.startElasticsearch({ port: await runtime.freePort(), dataDir, server: server.name });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stderr.write(`test ${es.product} ${es.version} at ${es.url} (up in ${seconds} s)\n`);
    return {
      env: { LOGFERRY_TEST_ES_URL: es.url, LOGFERRY_TEST_ES_SERVER: es.server },
      stop: async () => {
        await es.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    const reason = (error as Error).message;
    const missing = error instanceof runtime.ElasticsearchMissing;
    // The log stays for a node that failed; nothing worth keeping when there was no node.
    if (missing) rmSync(dataDir, { recursive: true, force: true });
    if (process.env.CI === 'true') throw new Error(`CI=true and the test Elasticsearch cannot start: ${reason}`, { cause: error });
    if (!missing) throw new Error(`the test Elasticsearch did not start: ${reason}`, { cause: error });
    const line = `Elasticsearch integration tests skipped: ${reason.split('\n')[0]}`;
    process.stderr.write(line + '\n');
    return { env: { LOGFERRY_TEST_ES_SKIP: line }, stop: none };
  }
}
