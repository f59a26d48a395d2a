/**
 * The agent's lifecycle: build every component from the configuration, run, and shut down cleanly.
 *
 * Shutdown order matters for "nothing lost, nothing duplicated": stop reading, let batches in transforms
 * reach the sink, flush the sink (bounded by the grace period), then persist the checkpoints — which only
 * ever hold acknowledged positions, so whatever did not make it is read again at the next start.
 */
import { ENV_VARS } from '../config/env-vars.js';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/load.js';
import { CheckpointStore } from '../checkpoint/store.js';
import { createSink, type SinkHooks } from '../sinks/create.js';
import type { Sink } from '../sinks/sink.js';
import { FileSourceMetrics } from '../sources/file/metrics.js';
import { Tailer, type FileInput } from '../sources/file/tailer.js';
import type { Transform } from '../transforms/transform.js';
import { InflightBudget } from './budget.js';
import { ComponentErrors } from './component-errors.js';
import { buildInputs } from './inputs.js';
import { createLogger, type Logger } from './logger.js';
import { Pipeline, type PipelineCounters } from './pipeline.js';
import { PipelineHealth } from './pipeline-health.js';
import { formatDuration, OutputWatch, outputTarget } from './output-watch.js';
import { summarize } from './run-summary.js';
import { buildTransforms } from './transforms.js';

export interface AgentOptions {
  root: string;
  /** replaces the default inputs */
  inputGlobs?: string[];
  oneshot?: boolean;
  logger?: Logger;
  /** used by tests and benchmarks to supply a sink */
  sink?: Sink;
  /** oneshot: give up (exit 1) once the output has been unavailable this long; default 5 minutes */
  outputTimeoutMs?: number;
  /** oneshot: where the summary line goes (default stderr) */
  writeSummary?: (line: string) => void;
  /** run after the configured ones (the demo gives its pods the labels an API server would) */
  extraTransforms?: Transform[];
  /** the clock read-time stamps come from (default: Date.now shifted by LOGFERRY_CLOCK_OFFSET_MS, see readClock) */
  now?: () => number;
}

/**
 * The read-time clock: Date.now, shifted by LOGFERRY_CLOCK_OFFSET_MS when set (milliseconds, may be negative),
 * so a test can run the real binary just before and just after UTC midnight without waiting for one.
 */
export function readClock(env: NodeJS.ProcessEnv = process.env): () => number {
  const raw = env[ENV_VARS.LOGFERRY_CLOCK_OFFSET_MS];
  const offset = raw === undefined || raw.trim() === '' ? 0 : Number(raw);
  if (!Number.isFinite(offset)) throw new Error(`LOGFERRY_CLOCK_OFFSET_MS: expected a number of milliseconds, got ${JSON.stringify(raw)}`);
  return offset === 0 ? Date.now : () => Date.now() + offset;
}

const DEFAULT_ONESHOT_OUTPUT_TIMEOUT_MS = 5 * 60_000;

export interface AgentHandle {
  /** resolves with the exit code when the agent has stopped (oneshot end, or after stop()) */
  done: Promise<number>;
  stop(reason?: string): Promise<number>;
  metricsPort?: number;
  tailer: Tailer;
  sink: Sink;
  /** live counts of records into and out of the transforms (the demo's status line) */
  counters: Readonly<PipelineCounters>;
}

export async function startAgent(config: Config, options: AgentOptions): Promise<AgentHandle> {
  const logger = options.logger ?? createLogger();
  const checkpointFile = join(config.dataDir, 'checkpoints.json');
  const firstStart = !existsSync(checkpointFile);
  const checkpoints = new CheckpointStore(config.dataDir);
  // Saved before anything else (even before the sink connects): a restart after a crash at any point
  // must know a run began, so files rotated since are found again (see Tailer recovery).
  checkpoints.flush(true);
  // A long-running agent waits (not ready, the reason logged) for refused credentials or an unverified
  // certificate to be fixed rather than exiting into a crash loop; a one-shot run fails at once.
  const sinkHooks: SinkHooks = { waitWhenRefused: options.oneshot !== true };
  // A first start has sent nothing before: no record it reads is a replay, none needs looking up.
  const sink = options.sink ?? (await createSink(config, logger, sinkHooks, { replays: !firstStart }));
  await sink.start();
  const { transforms, stop: stopTransforms, metrics: transformMetrics, pods, metadata } = await buildTransforms(config, logger);
  const inputs: FileInput[] = buildInputs(config, { ...options, pods });
  const pipeline = new Pipeline([...transforms, ...(options.extraTransforms ?? [])], sink, new ComponentErrors(logger));
  const budget = new InflightBudget(config.pipeline.maxInflightBytes);
  const pipelineHealth = new PipelineHealth(budget, pipeline.errors, config.pipeline.stallAfterMs);
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
    now: options.now ?? readClock(),
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
      sink: () => sink.stats(),
      sinkName: sink.name,
      pipeline: () => pipeline.counters,
      inflightBytes: () => budget.inUse,
      backpressureMs: () => budget.blockedMs,
      components: [new FileSourceMetrics(tailer), sink, journald, transformMetrics, pipelineHealth],
    });
    sinkHooks.onRequest = sinkLatencyHistogram(registry, sink.name);
    try {
      const { server, port } = await startHttpServer(config.server.address, registry, {
        live: () => !stopping,
        ready: () => {
          // The sink's own reason when it has one (refused credentials, a certificate, hosts down...): what to fix.
          if (!sink.healthy()) return { ready: false, reason: sink.unhealthyReason?.() ?? `${sink.name} unreachable` };
          const pipelineReady = pipelineHealth.readiness();
          return pipelineReady.ready ? (journald?.readiness() ?? { ready: true }) : pipelineReady;
        },
      });
      metricsPort = port;
      closeServer = () => new Promise((resolve) => server.close(() => resolve()));
    } catch (error) {
      // Shipping logs matters more than the endpoint: say so loudly (probes will notice) and carry on.
      logger.error(
        { address: config.server.address, error: (error as Error).message },
        'cannot serve /metrics, /healthz, /readyz; shipping continues without them',
      );
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

  const target = outputTarget(config);
  let stoppedEarly: string | undefined;
  let finished: Promise<number> | undefined;
  let resolveStopped!: (code: number) => void;
  const stopped = new Promise<number>((resolve) => (resolveStopped = resolve));
  const watch = new OutputWatch({
    name: sink.name,
    target,
    unavailable: () => (sink.healthy() ? undefined : (sink.unhealthyReason?.() ?? 'not healthy')),
    bytesBehind: () => tailer.bytesBehind(),
    reportIntervalMs: config.pipeline.outputReportIntervalMs,
    giveUpAfterMs: options.oneshot ? (options.outputTimeoutMs ?? DEFAULT_ONESHOT_OUTPUT_TIMEOUT_MS) : undefined,
    onGiveUp: (message) => {
      logger.error({ output: sink.name, target }, `${message}; stopping: what was stored stays committed, a rerun continues from there`);
      stoppedEarly = message;
      // Waiting for acknowledgements from an output that has not answered for so long is pointless.
      void shutdown('output unavailable', 0);
    },
    warn: (message, context) => logger.warn(context, message),
    info: (message, context) => logger.info(context, message),
  });
  watch.start();

  const shutdown = async (reason: string, graceMs = config.pipeline.shutdownGraceMs): Promise<number> => {
    if (finished) return finished;
    if (options.oneshot && reason !== 'end of input') stoppedEarly ??= `stopped (${reason}) before the end of input`;
    finished = (async () => {
      stopping = true;
      watch.stop();
      const started = Date.now();
      const deadline = started + graceMs;
      await Promise.all([tailer.stop(), journald?.stop()]);
      // Say what the shutdown waits for and how long: a pod that takes 25 s to stop otherwise looks hung.
      const waitingBytes = budget.inUse;
      if (waitingBytes > 0 && graceMs > 0) {
        const healthy = sink.healthy();
        (healthy ? logger.info.bind(logger) : logger.warn.bind(logger))(
          {
            reason,
            output: sink.name,
            target,
            bytesUnacknowledged: waitingBytes,
            batches: tailer.undeliveredBatches(),
            graceMs,
            setting: 'pipeline.shutdownGraceMs',
          },
          `shutting down: waiting up to ${formatDuration(graceMs)} for ${sink.name} to acknowledge what was read${healthy ? '' : ' (it is unavailable now)'}; what is not acknowledged by then is read again at the next start`,
        );
      }
      await Promise.race([pipeline.drained(), delay(Math.max(0, deadline - Date.now()))]);
      await sink.shutdown(Math.max(0, deadline - Date.now() - 500));
      clearInterval(checkpointTimer);
      checkpoints.flush();
      await stopTransforms();
      await closeServer?.();
      const stats = sink.stats();
      const undelivered = tailer.undeliveredBatches();
      if (waitingBytes > 0 && graceMs > 0) {
        if (undelivered > 0) {
          logger.warn(
            { reason, batches: undelivered, bytesUnacknowledged: budget.inUse, graceMs },
            `shutdown grace of ${formatDuration(graceMs)} ran out before ${sink.name} acknowledged everything; checkpoints stay at the last acknowledged offsets, so those records are read again at the next start`,
          );
        } else {
          logger.info({ reason, waitedMs: Date.now() - started }, `shutdown: everything read was acknowledged after ${formatDuration(Date.now() - started)}`);
        }
      }
      logger.info({ reason, ...stats, undeliveredBatches: undelivered }, 'logferry agent stopped');
      if (!options.oneshot) return stats.failed > 0 ? 1 : 0;
      const summary = summarize({
        sink: stats,
        filesRead: tailer.stats.opened,
        filesLeftOut: tailer.problems.list(),
        unmatchedInputs: options.inputGlobs?.length ? options.inputGlobs.filter((glob) => tailer.problems.unmatched([resolve(glob)]).length > 0) : undefined,
        anyFileMatched: inputs.some((input) => tailer.problems.unmatched(input.patterns).length < input.patterns.length),
        recordsIn: pipeline.counters.recordsIn,
        undeliveredBatches: undelivered,
        linesCut: tailer.stats.linesCut,
        metadata: metadata?.(),
        stoppedEarly,
      });
      (options.writeSummary ?? ((line: string) => process.stderr.write(line + '\n')))(summary.line);
      return summary.exitCode;
    })();
    void finished.then(resolveStopped);
    return finished;
  };

  const loop = Promise.all([tailer.start(), journald?.run()]);
  // A stop (a signal, or giving up on the output) ends `done` too: the natural end may never come then
  // (a flush that waits for an output that does not answer).
  const done = options.oneshot
    ? Promise.race([
        loop.then(async () => {
          await Promise.race([pipeline.drained(), stopped]);
          await Promise.race([sink.flush(), stopped]);
          return shutdown('end of input');
        }),
        stopped,
      ])
    : loop.then(() => shutdown('stopped'));
  return { done, stop: shutdown, metricsPort, tailer, sink, counters: pipeline.counters };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
