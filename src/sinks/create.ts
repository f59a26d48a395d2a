/** The sink the configuration names: Elasticsearch when configured, else the embedded local store. */
import type { Logger } from '../agent/logger.js';
import type { Config } from '../config/load.js';
import type { Sink } from './sink.js';

export async function createSink(config: Config, _logger: Logger): Promise<Sink> {
  throw new Error(`output ${config.output.kind} is not available yet`);
}
