/** The sink the configuration names: Elasticsearch when configured, else the embedded local store. */
import type { Logger } from '../agent/logger.js';
import type { Config } from '../config/load.js';
import type { Sink } from './sink.js';

export async function createSink(config: Config, logger: Logger): Promise<Sink> {
  if (config.output.kind === 'elasticsearch') {
    const { ElasticsearchSink } = await import('./elasticsearch/sink.js');
    return new ElasticsearchSink(config.output.elasticsearch, {
      onError: (message, context) => logger.warn(context, message),
    });
  }
  const { createLocalStoreSink } = await import('../store/sink-factory.js');
  return createLocalStoreSink(config, logger);
}
