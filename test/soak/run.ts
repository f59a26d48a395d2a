/**
 * One soak run: a node log tree with live writers, the fake API server, a fault proxy in front of a real
 * Elasticsearch, the real agent — and the seeded schedule played against them. Then the agent is let
 * finish (restarted if down, waited for until every marker is stored, stalls or a timeout), stopped with
 * SIGTERM, and the checker reads everything back. All traffic stays on 127.0.0.1; every wait is bounded.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countDocs } from '../helpers/elasticsearch.js';
import { startFakeCluster, type FakeCluster, type PodExtras } from '../helpers/fake-kube-cluster.js';
import type { IPod } from '../helpers/fake-kube-objects.js';
import type { PodContainer } from '../helpers/log-tree.js';
import { AgentSupervisor } from './agent-supervisor.js';
import { checkDelivery, type CheckReport } from './checker.js';
import { FaultProxy, type ProxyStats } from './es-proxy.js';
import { NodeTree, type ExpectedMetadata } from './node-tree.js';
import { Rng } from './random.js';
import { describeEvent, makePlan, type FaultEvent, type PodPlan } from './schedule.js';

export interface SoakOptions {
  seed: number;
  minutes: number;
  /** the real Elasticsearch: the proxy's upstream, and where the checker reads */
  esUrl: string;
  log?: (line: string) => void;
  /** longest wait for the last records after the schedule; default 180 s */
  drainTimeoutMs?: number;
  /** keep the node tree and the agent's data dir (they are removed otherwise; logs are kept on failure) */
  keepFiles?: boolean;
}

export interface SoakResult {
  seed: number;
  minutes: number;
  nodeName: string;
  workDir: string;
  check: CheckReport;
  faults: Record<string, number>;
  rss: { peakBytes: number; peakLastThirdBytes: number; samples: number };
  agent: { starts: number; crashes: number; finalExit: string; errorLines: number; smallBudgetLives: number; shortGraceLives: number };
  proxy: ProxyStats;
  kube: { restarts: number; podLists: number; podWatches: number };
  pods: { initial: number; created: number };
  rotations: { size: number; burst: number };
  scheduleMs: number;
  drainMs: number;
  /** problems of the harness itself (an event that threw) */
  harnessErrors: string[];
  failed: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
/** a pod created this soon after an API server restart is reported as such (the known metadata hole) */
const AFTER_RESTART_WINDOW_MS = 5_000;
const MIN_LIFE_MS = 2_000;

function podExtras(pod: PodPlan): PodExtras {
  return { labels: { app: pod.app, tier: 'soak' }, owner: pod.owner, images: Object.fromEntries(pod.containers.map((c) => [c.name, c.image])) };
}

function expectedFor(pod: PodPlan, object: IPod | undefined): ExpectedMetadata[] {
  const podIp = object?.status?.podIP ?? '';
  return pod.containers.map((c) => ({ app: pod.app, podIp, image: c.image }));
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const durationMs = Math.round(options.minutes * 60_000);
  const plan = makePlan(options.seed, durationMs);
  const rng = new Rng(options.seed);
  const workDir = mkdtempSync(join(tmpdir(), `logferry-soak-${options.seed}-`));
  const root = join(workDir, 'node');
  const dataDir = join(workDir, 'data');
  mkdirSync(root);
  const nodeName = `soak-${options.seed}-${process.pid}-${Date.now().toString(36)}`;
  log(`soak seed ${options.seed}: ${options.minutes} min, node ${nodeName}, work dir ${workDir}`);
  log(`${plan.pods.length} pods at start, rotation at ${plan.rotateAtBytes >> 10} KiB; schedule:`);
  for (const event of plan.events) log(`  ${describeEvent(event)}`);

  const faults: Record<string, number> = {};
  const count = (kind: string, n = 1) => (faults[kind] = (faults[kind] ?? 0) + n);
  const harnessErrors: string[] = [];
  const tree = new NodeTree({ root, rotateAtBytes: plan.rotateAtBytes, lateReopenChance: plan.lateReopenChance, rng: rng.fork('writers') });
  const planned = plan.pods.map((pod) => tree.plan(pod));
  let cluster: FakeCluster | undefined;
  let proxy: FaultProxy | undefined;
  let supervisor: AgentSupervisor | undefined;
  let passed = false;
  try {
    // The initial pods are in the API before their files exist, as on a real node.
    cluster = await startFakeCluster({
      nodeName,
      containers: planned.flat(),
      pods: Object.fromEntries(plan.pods.map((pod) => [`${pod.namespace}/${pod.name}`, podExtras(pod)])),
      namespaces: { shop: { team: 'storefront' }, batch: { team: 'data' }, infra: { team: 'platform' } },
    });
    const api = cluster.api;
    plan.pods.forEach((pod, i) => tree.startPod(pod, planned[i], expectedFor(pod, cluster!.pods.get(`${pod.namespace}/${pod.name}`)), false));
    proxy = await FaultProxy.start(options.esUrl, rng.fork('proxy'));
    // The agent's own watch backoff (500 ms doubling to 30 s), not FakeCluster.yaml's test-fast one: how
    // long metadata lags after an API server restart is part of what the soak measures.
    const kubernetesYaml = [
      'kubernetes:',
      `  apiServer: ${JSON.stringify(cluster.config.apiServer)}`,
      `  tokenFile: ${JSON.stringify(cluster.config.tokenFile)}`,
      `  nodeName: ${JSON.stringify(nodeName)}`,
    ].join('\n');
    supervisor = new AgentSupervisor({ root, dataDir, workDir, nodeName, elasticsearchUrl: proxy.url, kubernetesYaml, lives: plan.lives, log });

    // One agent: its faults run one after the other even when a graceful stop outlasts the gap to the next
    // (a SIGTERM during an outage may take the whole 25 s grace).
    // Each life also runs MIN_LIFE_MS first: a queued fault right after a restart would otherwise hit an
    // agent still loading its modules.
    let agentBusy: Promise<void> = Promise.resolve();
    const agentFault = (act: () => Promise<void>) =>
      (agentBusy = agentBusy.then(async () => {
        await sleep((supervisor!.currentStartedAt ?? 0) + MIN_LIFE_MS - Date.now());
        await act();
      }));
    let kubeUp: Promise<void> = Promise.resolve();
    let lastKubeRestart = -Infinity;
    let created = 0;
    const execute = async (event: FaultEvent, eventRng: Rng): Promise<void> => {
      switch (event.kind) {
        case 'agent-kill9':
          return agentFault(async () => {
            if (await supervisor!.kill9()) count('agent kill -9');
            await sleep(event.restartAfterMs);
            supervisor!.start();
          });
        case 'agent-sigterm':
          return agentFault(async () => {
            const grace = supervisor!.currentLife?.shutdownGraceMs ?? 0;
            const started = Date.now();
            const ended = await supervisor!.sigterm();
            if (ended) {
              // Killed by the signal itself: it came before the agent set its handler (it sets it once started).
              if (ended.exit?.signal === 'SIGTERM') count('agent SIGTERM before its handler was set');
              else count(grace < 25_000 ? 'agent SIGTERM, short grace' : 'agent SIGTERM');
              log(
                `  agent life ${ended.index} stopped by SIGTERM (grace ${grace} ms) in ${Date.now() - started} ms, exit ${ended.exit?.code ?? ended.exit?.signal}`,
              );
            }
            await sleep(event.restartAfterMs);
            supervisor!.start();
          });
        case 'es-outage':
        case 'es-429':
          count(
            event.kind === 'es-outage'
              ? `ES ${event.mode === 'refuse' ? 'refused' : '503'}`
              : `ES 429 ${event.mode === 'request' ? 'whole request' : 'per item'}`,
          );
          await proxy!.setMode(event.kind === 'es-outage' ? event.mode : event.mode === 'request' ? '429' : 'items429', {
            itemFraction: event.kind === 'es-429' ? event.itemFraction : undefined,
          });
          await sleep(event.durationMs);
          return proxy!.setMode('forward');
        case 'kube-restart':
          count('API server restart');
          kubeUp = api.restart({ downMs: event.downMs }).then(() => {
            lastKubeRestart = Date.now();
          });
          return kubeUp;
        case 'rotation-burst': {
          const tags = await tree.rotationBurst(event.containers, event.rotations, event.spacingMs, event.linesBetween, eventRng);
          if (tags.length > 0) count('rotation burst');
          return;
        }
        case 'write-burst':
          if (tree.writeBurst(event.containers, event.factor, event.durationMs, eventRng).length > 0) count('write burst');
          return;
        case 'pod-create': {
          // A pod cannot be created while the API server is down: the scheduler and kubelet go through it.
          await kubeUp;
          const files: PodContainer[] = tree.plan(event.pod);
          const object = cluster!.addPodFor(files, podExtras(event.pod));
          const afterRestart = Date.now() - lastKubeRestart < AFTER_RESTART_WINDOW_MS;
          tree.startPod(event.pod, files, expectedFor(event.pod, object), afterRestart);
          created++;
          return void count(afterRestart ? 'pod created < 5 s after API restart' : 'pod created');
        }
      }
    };

    const runStart = Date.now();
    tree.start();
    supervisor.start();
    const pending: Promise<void>[] = [];
    for (const [i, event] of plan.events.entries()) {
      await sleep(runStart + event.at - Date.now());
      log(
        `[${((Date.now() - runStart) / 1000).toFixed(1).padStart(6)}s] ${describeEvent(event)
          .trim()
          .replace(/^[\d.]+s /, '')}`,
      );
      pending.push(
        execute(event, rng.fork(`event-${i}`)).catch((error: Error) => {
          harnessErrors.push(`${event.kind} at ${event.at} ms: ${error.stack ?? error.message}`);
          log(`  harness error in ${event.kind}: ${error.message}`);
        }),
      );
    }
    await sleep(runStart + durationMs - Date.now());
    await Promise.all(pending);
    const scheduleEnd = Date.now();

    // Everything healthy again; the writers stop, so the number of records is final.
    await proxy.setMode('forward');
    await kubeUp;
    if (!supervisor.running) supervisor.start();
    tree.stop();
    const written = tree.totalWritten;
    log(`[${((Date.now() - runStart) / 1000).toFixed(1).padStart(6)}s] schedule done: ${written} records written; waiting for the agent to deliver them`);
    const drainStart = Date.now();
    const query = { term: { 'host.name': nodeName } };
    let stored = 0;
    let lastProgress = Date.now();
    while (Date.now() - drainStart < (options.drainTimeoutMs ?? 180_000)) {
      const now = await countDocs(options.esUrl, 'logstash-*', query).catch(() => stored);
      if (now > stored) lastProgress = Date.now();
      stored = now;
      if (stored >= written) break;
      // The agent may sit out a retry delay of up to 30 s after an outage; longer without progress is a stall.
      if (Date.now() - lastProgress > 60_000) {
        log(`  no progress for 60 s at ${stored}/${written} documents`);
        break;
      }
      await sleep(2_000);
    }
    const drainMs = Date.now() - drainStart;
    log(`  ${stored} documents after ${(drainMs / 1000).toFixed(1)} s; stopping the agent`);
    const final = await supervisor.sigterm('final');
    supervisor.stopSampling();

    const check = await checkDelivery(options.esUrl, nodeName, tree.containers);
    const lastThirdFrom = runStart + ((scheduleEnd - runStart) * 2) / 3;
    const rss = supervisor.rss;
    const peak = (samples: typeof rss) => samples.reduce((m, s) => Math.max(m, s.bytes), 0);
    const result: SoakResult = {
      seed: options.seed,
      minutes: options.minutes,
      nodeName,
      workDir,
      check,
      faults,
      rss: { peakBytes: peak(rss), peakLastThirdBytes: peak(rss.filter((s) => s.at >= lastThirdFrom && s.at <= scheduleEnd)), samples: rss.length },
      agent: {
        starts: supervisor.history.length,
        crashes: supervisor.crashes,
        finalExit: final?.exit ? `code ${final.exit.code}${final.exit.signal ? `, signal ${final.exit.signal}` : ''}` : 'not running',
        errorLines: supervisor.history.reduce((n, r) => n + r.errorLines, 0),
        smallBudgetLives: supervisor.history.filter((r) => r.life.maxInflightBytes < 1024 * 1024).length,
        shortGraceLives: supervisor.history.filter((r) => r.life.shutdownGraceMs < 25_000).length,
      },
      proxy: { ...proxy.stats },
      kube: { restarts: api.restarts, podLists: api.count('list', 'pods'), podWatches: api.count('watch', 'pods') },
      pods: { initial: plan.pods.length, created },
      rotations: { size: tree.sizeRotations, burst: tree.burstRotations },
      scheduleMs: scheduleEnd - runStart,
      drainMs,
      harnessErrors,
      failed: false,
    };
    result.failed = check.lost + check.duplicated + check.cut + check.withoutMetadata > 0 || harnessErrors.length > 0 || check.written === 0;
    passed = !result.failed;
    return result;
  } finally {
    await supervisor?.forceKill().catch(() => undefined);
    supervisor?.stopSampling();
    tree.stop();
    await proxy?.close().catch(() => undefined);
    await cluster?.close().catch(() => undefined);
    // The node tree and checkpoints can be large; the agents' logs and configs are kept when it failed.
    if (!options.keepFiles) {
      rmSync(passed ? workDir : root, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}
