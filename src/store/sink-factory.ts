/** The embedded local store as the agent's sink. */
import type { Logger } from '../agent/logger.js';
import type { Config } from '../config/load.js';
import type { Sink } from '../sinks/sink.js';
import { LocalStoreSink } from './sink.js';

export async function createLocalStoreSink(config: Config, logger: Logger): Promise<Sink> {
  const local = config.output.kind === 'local' ? config.output.local : { retentionDays: 7, maxBytes: 2 * 1024 ** 3 };
  return new LocalStoreSink({
    dataDir: config.dataDir,
    retentionDays: local.retentionDays,
    maxBytes: local.maxBytes,
    onError: (message, context) => logger.error(context, message),
  });
}
