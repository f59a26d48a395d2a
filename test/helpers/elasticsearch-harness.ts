/**
 * One real Elasticsearch per `npm test` run (scripts/test.mjs calls this once): started on a free loopback
 * port with its data in a temp dir, shared by every test file through LOGFERRY_TEST_ES_URL.
 * Under CI (CI=true) an Elasticsearch that cannot start fails the run. Elsewhere, without Java, Maven or
 * the jars, the integration tests skip with one line saying why; a node that is there but fails to start
 * fails the run (with its log's tail), since that is a real problem to see. LOGFERRY_TEST_ES_URL already set = use that cluster instead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningElasticsearch {
  url: string;
  port: number;
  dataDir: string;
  logFile: string;
  stop(): Promise<void>;
}

/** The plain-JS runtime in scripts/es-runtime.mjs (shared with `npm run es` and the benches). */
export interface ElasticsearchRuntime {
  ES_VERSION: string;
  startElasticsearch(options: { port: number; dataDir: string; clusterName?: string; heap?: string; timeoutMs?: number }): Promise<RunningElasticsearch>;
  freePort(): Promise<number>;
  ensureJars(options?: { quiet?: boolean }): string;
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
    const es = await runtime.startElasticsearch({ port: await runtime.freePort(), dataDir });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stderr.write(`test Elasticsearch ${runtime.ES_VERSION} at ${es.url} (up in ${seconds} s)\n`);
    return {
      env: { LOGFERRY_TEST_ES_URL: es.url },
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
