/** The embedded local store as the agent's sink (until it exists, a clear message). */
import type { Logger } from '../agent/logger.js';
import type { Config } from '../config/load.js';
import type { Sink } from '../sinks/sink.js';
import { UsageError } from '../cli/errors.js';

export async function createLocalStoreSink(_config: Config, _logger: Logger): Promise<Sink> {
  throw new UsageError('no Elasticsearch configured (set ELASTICSEARCH_HOSTS, or ELASTICSEARCH_HOST and ELASTICSEARCH_PORT) and the local store is not available yet');
}
