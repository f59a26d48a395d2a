/**
 * One real Elasticsearch per `npm test` run (scripts/test.mjs calls this once): started on a free loopback
 * port with its data in a temp dir, shared by every test file through LOGFERRY_TEST_ES_URL.
 * Under CI (CI=true) an Elasticsearch that cannot start fails the run; elsewhere the integration tests skip
 * with one line saying why.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Runtime {
  startElasticsearch(options: { port: number; dataDir: string; clusterName?: string }): Promise<{ url: string; stop(): Promise<void> }>;
  freePort(): Promise<number>;
  ElasticsearchUnavailable: new (message: string) => Error;
}

export async function loadRuntime(): Promise<Runtime> {
  // scripts/es-runtime.mjs is plain JS shared with `npm run es`; from dist/test/helpers it is three levels up.
  return (await import(new URL('../../../scripts/es-runtime.mjs', import.meta.url).href)) as Runtime;
}

export async function provideTestElasticsearch({ needed }: { needed: boolean }): Promise<{ env: Record<string, string>; stop(): Promise<void> }> {
  if (!needed) return { env: {}, stop: async () => undefined };
  if (process.env.LOGFERRY_TEST_ES_URL) return { env: { LOGFERRY_TEST_ES_URL: process.env.LOGFERRY_TEST_ES_URL }, stop: async () => undefined };
  const runtime = await loadRuntime();
  const dataDir = mkdtempSync(join(tmpdir(), 'logferry-es-'));
  try {
    const started = Date.now();
    const es = await runtime.startElasticsearch({ port: await runtime.freePort(), dataDir });
    process.stderr.write(`test Elasticsearch 7.10.2 at ${es.url} (started in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    return {
      env: { LOGFERRY_TEST_ES_URL: es.url },
      stop: async () => {
        await es.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    const reason = (error as Error).message;
    if (process.env.CI === 'true') throw new Error(`CI=true and the test Elasticsearch cannot start: ${reason}`);
    const line = `integration tests skipped: no Elasticsearch (${reason.split('\n')[0]})`;
    process.stderr.write(line + '\n');
    return { env: { LOGFERRY_TEST_ES_SKIP: line }, stop: async () => undefined };
  }
}
