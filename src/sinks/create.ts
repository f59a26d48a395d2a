/** The sink the configuration names: Elasticsearch when configured, else the embedded local store. */
import type { Logger } from '../agent/logger.js';
import type { Config } from '../config/load.js';
import type { Sink } from './sink.js';

/** Hooks the agent fills in once its metrics exist (the sink is created first). */
export interface SinkHooks {
  onRequest?(seconds: number, outcome: string): void;
  /**
   * Elasticsearch refusing us at start (credentials, certificate): wait for a fix, reported through
   * /readyz and the log, instead of failing start (a long-running agent; a one-shot run fails at once).
   */
  waitWhenRefused?: boolean;
}

export async function createSink(config: Config, logger: Logger, hooks: SinkHooks = {}, start: { replays?: boolean } = {}): Promise<Sink> {
  if (config.output.kind === 'elasticsearch') {
    const { ElasticsearchSink } = await import('./elasticsearch/sink.js');
    return new ElasticsearchSink(config.output.elasticsearch, {
      onError: (message, context) => logger.warn(context, message),
      onInfo: (message, context) => logger.info(context, message),
      onRequest: (seconds, outcome) => hooks.onRequest?.(seconds, outcome),
      waitWhenRefused: hooks.waitWhenRefused,
      // What a restart may read again, as bulk NDJSON (about twice to three times the bytes read, with the
      // metadata): the in-flight budget plus what was acknowledged after the last checkpoint save.
      replayCheckBytes: start.replays === false ? 0 : (config.output.elasticsearch.replayCheckBytes ?? 4 * config.pipeline.maxInflightBytes),
    });
  }
  const { createLocalStoreSink } = await import('../store/sink-factory.js');
  return createLocalStoreSink(config, logger);
}
