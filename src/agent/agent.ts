/**
 * The agent's lifecycle: build every component from the configuration, run, and shut down cleanly.
 *
 * Shutdown order matters for "nothing lost, nothing duplicated": stop reading, let batches in transforms
 * reach the sink, flush the sink (bounded by the grace period), then persist the checkpoints — which only
 * ever hold acknowledged positions, so whatever did not make it is read again at the next start.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/load.js';
import { CheckpointStore } from '../checkpoint/store.js';
import { createSink, type SinkHooks } from '../sinks/create.js';
import type { Sink } from '../sinks/sink.js';
import { Tailer, type FileInput } from '../sources/file/tailer.js';
import type { Transform } from '../transforms/transform.js';
import { InflightBudget } from './budget.js';
import { buildInputs } from './inputs.js';
import { createLogger, type Logger } from './logger.js';
import { Pipeline } from './pipeline.js';
import { buildTransforms } from './transforms.js';

export interface AgentOptions {
  root: string;
  /** replaces the default inputs */
  inputGlobs?: string[];
  oneshot?: boolean;
  logger?: Logger;
  /** used by tests and benchmarks to supply a sink */
  sink?: Sink;
}

export interface AgentHandle {
  /** resolves with the exit code when the agent has stopped (oneshot end, or after stop()) */
  done: Promise<number>;
  stop(reason?: string): Promise<number>;
  metricsPort?: number;
  tailer: Tailer;
  sink: Sink;
}

export async function startAgent(config: Config, options: AgentOptions): Promise<AgentHandle> {
  const logger = options.logger ?? createLogger();
  const checkpointFile = join(config.dataDir, 'checkpoints.json');
  const firstStart = !existsSync(checkpointFile);
  const checkpoints = new CheckpointStore(config.dataDir);
  // Saved before anything else (even before the sink connects): a restart after a crash at any point
  // must know a run began, so files rotated since are found again (see Tailer recovery).
  checkpoints.flush(true);
  const sinkHooks: SinkHooks = {};
  const sink = options.sink ?? (await createSink(config, logger, sinkHooks));
  await sink.start();
  const { transforms, stop: stopTransforms, registerMetrics, pods } = await buildTransforms(config, logger);
  const inputs: FileInput[] = buildInputs(config, { ...options, pods });
  const pipeline = new Pipeline(transforms as Transform[], sink, (message, context) => logger.error(context, message));
  const budget = new InflightBudget(config.pipeline.maxInflightBytes);
  const tailer = new Tailer({
    nodeName: config.nodeName,
    inputs,
    checkpoints,
    budget,
    sink: pipeline,
    readChunkBytes: config.pipeline.readChunkBytes,
    maxRecordBytes: config.pipeline.maxRecordBytes,
    rescanIntervalMs: config.pipeline.rescanIntervalMs,
    oneshot: options.oneshot,
    firstStart,
    onError: (message, context) => logger.warn(context, message),
  });

  const journaldConfig = config.inputs.journald;
  const journald =
    journaldConfig.enabled && config.profile === 'node' && !options.inputGlobs?.length
      ? // Loaded only on the node profile: a sidecar never reads the journal.
        new (await import('../sources/journald/source.js')).JournaldSource({
          nodeName: config.nodeName,
          units: journaldConfig.units,
          journalctl: journaldConfig.journalctl,
          directory: journaldConfig.directory,
          checkpoints,
          budget,
          sink: pipeline,
          oneshot: options.oneshot,
          onError: (message, context) => logger.warn(context, message),
        })
      : undefined;

  let stopping = false;
  let metricsPort: number | undefined;
  let closeServer: (() => Promise<void>) | undefined;
  // Loaded only when the endpoint is on: prom-client is a noticeable share of an idle sidecar's memory.
  if (config.server.address !== '' && !options.oneshot) {
    const [{ createMetrics, sinkLatencyHistogram }, { startHttpServer }] = await Promise.all([import('./metrics.js'), import('../server/http.js')]);
    const registry = createMetrics({
      tailer: () => tailer.stats,
      sink: () => sink.stats(),
      sinkName: sink.name,
      pipeline: () => pipeline.counters,
      filesOpen: () => tailer.openFiles.length,
      bytesBehind: () => tailer.bytesBehind(),
      deletedBytesHeld: () => tailer.deletedBytesHeld(),
      inflightBytes: () => budget.inUse,
      backpressureMs: () => budget.blockedMs,
      journald: journald && (() => journald.stats()),
      extra: registerMetrics,
    });
    sinkHooks.onRequest = sinkLatencyHistogram(registry, sink.name);
    try {
      const { server, port } = await startHttpServer(config.server.address, registry, {
        live: () => !stopping,
        ready: () => (sink.healthy() ? (journald?.readiness() ?? { ready: true }) : { ready: false, reason: `${sink.name} unreachable` }),
      });
      metricsPort = port;
      closeServer = () => new Promise((resolve) => server.close(() => resolve()));
    } catch (error) {
      // Shipping logs matters more than the endpoint: say so loudly (probes will notice) and carry on.
      logger.error({ address: config.server.address, error: (error as Error).message }, 'cannot serve /metrics, /healthz, /readyz; shipping continues without them');
    }
  }

  const checkpointTimer = setInterval(() => {
    try {
      checkpoints.flush();
    } catch (error) {
      logger.error({ file: checkpoints.path, error: (error as Error).message }, 'cannot write checkpoints');
    }
  }, config.pipeline.checkpointIntervalMs);
  checkpointTimer.unref();

  logger.info(
    { node: config.nodeName, output: sink.name, dataDir: config.dataDir, inputs: inputs.map((i) => i.patterns).flat(), metricsPort },
    'logferry agent started',
  );

  let finished: Promise<number> | undefined;
  const shutdown = async (reason: string): Promise<number> => {
    if (finished) return finished;
    finished = (async () => {
      stopping = true;
      const deadline = Date.now() + config.pipeline.shutdownGraceMs;
      await Promise.all([tailer.stop(), journald?.stop()]);
      await Promise.race([pipeline.drained(), delay(Math.max(0, deadline - Date.now()))]);
      await sink.shutdown(Math.max(0, deadline - Date.now() - 500));
      clearInterval(checkpointTimer);
      checkpoints.flush();
      await stopTransforms();
      await closeServer?.();
      const stats = sink.stats();
      const undelivered = tailer.undeliveredBatches();
      logger.info({ reason, ...stats, undeliveredBatches: undelivered }, 'logferry agent stopped');
      return stats.failed > 0 || (options.oneshot && undelivered > 0) ? 1 : 0;
    })();
    return finished;
  };

  const loop = Promise.all([tailer.start(), journald?.run()]);
  const done = options.oneshot
    ? loop.then(async () => {
        await pipeline.drained();
        await sink.flush();
        return shutdown('end of input');
      })
    : loop.then(() => shutdown('stopped'));
  return { done, stop: shutdown, metricsPort, tailer, sink };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
