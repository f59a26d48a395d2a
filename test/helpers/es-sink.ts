/** What the Elasticsearch sink tests share: a port nothing listens on, a fast-retrying config, a sink shut down after the test. */
import { createServer } from 'node:net';
import type { TestContext } from 'node:test';
import { resolveElasticsearchConfig, type ElasticsearchConfig, type ElasticsearchFileInput } from '../../src/sinks/elasticsearch/config.js';
import { ElasticsearchSink } from '../../src/sinks/elasticsearch/sink.js';

/** A loopback port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A sink config whose retries, dead-host probes and flushes are `scale` times the base delays (20 ms
 * initial retry, 200 ms cap, 50 ms probe, 20 ms flush): a scripted endpoint answers at once, a real
 * Elasticsearch wants a little more room.
 */
export function fastSinkConfig(hosts: string[], extra: Partial<ElasticsearchFileInput> = {}, scale = 1): ElasticsearchConfig {
  return resolveElasticsearchConfig(
    { hosts, retryInitialDelayMs: 20 * scale, retryMaxDelayMs: 200 * scale, deadHostRetryMs: 50 * scale, flushIntervalMs: 20 * scale, ...extra },
    {},
  )!;
}

/** A sink shut down (within `shutdownMs`) when the test ends; errors are collected as text. */
export function sinkFor(t: TestContext, cfg: ElasticsearchConfig, errors: string[] = [], shutdownMs = 100): ElasticsearchSink {
  const sink = new ElasticsearchSink(cfg, { onError: (message, context) => errors.push(`${message} ${JSON.stringify(context)}`) });
  t.after(() => sink.shutdown(shutdownMs));
  return sink;
}
