/**
 * An Elasticsearch for the benchmarks: LOGFERRY_BENCH_ES_URL when set, else a private node started with
 * the test harness's runtime (scripts/es-runtime.mjs), else the reason there is none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Runtime {
  startElasticsearch(o: { port: number; dataDir: string; heap?: string }): Promise<{ url: string; stop(): Promise<void> }>;
  freePort(): Promise<number>;
  ES_VERSION: string;
}

export type BenchElasticsearch = { url: string; description: string; stop(): Promise<void> } | { unavailable: string };

export async function benchElasticsearch(): Promise<BenchElasticsearch> {
  const external = process.env.LOGFERRY_BENCH_ES_URL;
  if (external) return { url: external, description: `LOGFERRY_BENCH_ES_URL ${external}`, stop: async () => undefined };
  // From dist/bench/lib the scripts folder is three levels up.
  const runtime = (await import(new URL('../../../scripts/es-runtime.mjs', import.meta.url).href)) as Runtime;
  const dataDir = mkdtempSync(join(tmpdir(), 'logferry-bench-es-'));
  try {
    const es = await runtime.startElasticsearch({ port: await runtime.freePort(), dataDir, heap: '1g' });
    return {
      url: es.url,
      description: `Elasticsearch ${runtime.ES_VERSION}, one JVM on this machine`,
      stop: async () => {
        await es.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    return {
      unavailable: `no Elasticsearch: set LOGFERRY_BENCH_ES_URL, or install Java and Maven for a private one (${(error as Error).message.split('\n')[0]})`,
    };
  }
}
