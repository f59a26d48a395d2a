/**
 * The soak's plan, entirely from a seed: the pods at start, the agent's configuration for each of its
 * lives, and a timeline of faults. Faults come from independent tracks (agent, Elasticsearch, API
 * server, rotations, write bursts, new pods), each with its own random stream; the agent track and the
 * Elasticsearch track never overlap themselves (one agent, one proxy mode), everything else overlaps
 * freely — the combinations are the point.
 */
import { Rng } from './random.js';

export interface PodPlan {
  namespace: string;
  name: string;
  uid: string;
  app: string;
  owner: { kind: string; name: string };
  containers: Array<{ name: string; image: string; linesPerSecond: number }>;
  /** a new pod stops writing after this long (a finished job, a crashed container); undefined = until the end */
  writesForMs?: number;
}

export type FaultEvent =
  | { at: number; kind: 'agent-kill9'; restartAfterMs: number }
  | { at: number; kind: 'agent-sigterm'; restartAfterMs: number }
  | { at: number; kind: 'es-outage'; mode: 'refuse' | '503'; durationMs: number }
  | { at: number; kind: 'es-429'; mode: 'request' | 'items'; durationMs: number; itemFraction: number }
  | { at: number; kind: 'kube-restart'; downMs: number }
  | { at: number; kind: 'rotation-burst'; containers: number; rotations: number; spacingMs: number; linesBetween: number }
  | { at: number; kind: 'write-burst'; containers: number; factor: number; durationMs: number }
  | { at: number; kind: 'pod-create'; pod: PodPlan; afterKubeRestart: boolean };

/** The agent's settings for one life (one process, from a start to its kill or SIGTERM). */
export interface AgentLife {
  /** `pipeline.maxInflightBytes`: small in some lives so the budget fills during outages */
  maxInflightBytes: number;
  /** `pipeline.shutdownGraceMs`: short in some lives so a SIGTERM leaves records unacknowledged */
  shutdownGraceMs: number;
}

export interface SoakPlan {
  seed: number;
  durationMs: number;
  pods: PodPlan[];
  events: FaultEvent[];
  /** lives[i] configures the agent's i-th start; there are more than the schedule needs (the final drain may restart it) */
  lives: AgentLife[];
  /** size-triggered rotation, like the kubelet's containerLogMaxSize (small, so rotation is frequent) */
  rotateAtBytes: number;
  /** share of rotations where the runtime writes a little more into the renamed file before reopening */
  lateReopenChance: number;
}

const NAMESPACES = ['shop', 'batch', 'infra'];
const APPS = ['web', 'api', 'worker', 'cache', 'ingest', 'report', 'auth', 'search'];

function makePod(rng: Rng, index: number, running: boolean): PodPlan {
  const namespace = rng.pick(NAMESPACES);
  const app = `${rng.pick(APPS)}${index}`;
  const containers = Array.from({ length: rng.chance(0.35) ? 2 : 1 }, (_, i) => ({
    name: i === 0 ? 'app' : 'sidecar',
    image: `registry.example.com/${app}-${i}:1.${rng.int(0, 9)}`,
    linesPerSecond: running ? rng.int(15, 80) : rng.int(10, 60),
  }));
  const kind = rng.pick(['ReplicaSet', 'StatefulSet', 'Job', 'DaemonSet']);
  const hash = rng.word(10);
  const name = kind === 'ReplicaSet' ? `${app}-${hash}-${rng.word(5)}` : kind === 'StatefulSet' ? `${app}-0` : `${app}-${rng.word(5)}`;
  const owner = { kind, name: kind === 'ReplicaSet' ? `${app}-${hash}` : app };
  return { namespace, name, uid: rng.uuid(), app, owner, containers, writesForMs: running ? undefined : rng.int(10_000, 60_000) };
}

/** Events of one track, spaced by random gaps; `make` returns the event and how long it occupies the track. */
function track(
  rng: Rng,
  durationMs: number,
  first: [number, number],
  gap: [number, number],
  make: (at: number) => { event: FaultEvent; busyMs: number } | undefined,
): FaultEvent[] {
  const events: FaultEvent[] = [];
  let at = rng.int(first[0], first[1]);
  for (let guard = 0; guard < 10_000 && at < durationMs; guard++) {
    const made = make(at);
    if (made === undefined) break;
    events.push(made.event);
    at += made.busyMs + rng.int(gap[0], gap[1]);
  }
  return events;
}

export function makePlan(seed: number, durationMs: number): SoakPlan {
  const root = new Rng(seed);
  const podRng = root.fork('pods');
  const initialPods = Array.from({ length: podRng.int(6, 10) }, (_, i) => makePod(podRng, i, true));
  let podIndex = initialPods.length;

  const agentRng = root.fork('agent');
  const agent = track(agentRng, durationMs, [8_000, 20_000], [12_000, 35_000], (at) => {
    const restartAfterMs = agentRng.int(100, 3_000);
    const kind = agentRng.chance(0.6) ? 'agent-kill9' : 'agent-sigterm';
    return { event: { at, kind, restartAfterMs }, busyMs: restartAfterMs + 2_000 };
  });

  const esRng = root.fork('elasticsearch');
  // Every Elasticsearch fault ends before the schedule does, so the final drain starts with it healthy.
  const es = track(esRng, durationMs, [10_000, 25_000], [10_000, 30_000], (at) => {
    const outage = esRng.chance(0.55);
    const durationMs_ = outage ? esRng.int(5_000, 30_000) : esRng.int(5_000, 20_000);
    const fits = Math.min(durationMs_, durationMs - at - 1_000);
    if (fits < 3_000) return undefined;
    const event: FaultEvent = outage
      ? { at, kind: 'es-outage', mode: esRng.chance(0.5) ? 'refuse' : '503', durationMs: fits }
      : { at, kind: 'es-429', mode: esRng.chance(0.4) ? 'request' : 'items', durationMs: fits, itemFraction: esRng.between(0.2, 0.7) };
    return { event, busyMs: fits };
  });

  const kubeRng = root.fork('kube');
  const kube: FaultEvent[] = [];
  for (const event of track(kubeRng, durationMs, [15_000, 40_000], [25_000, 50_000], (at) => ({
    event: { at, kind: 'kube-restart', downMs: kubeRng.int(0, 4_000) },
    busyMs: 4_000,
  }))) {
    kube.push(event);
    // Pods created just after an API server restart: where metadata is known to go missing.
    if (event.kind === 'kube-restart' && kubeRng.chance(0.6)) {
      const at = event.at + event.downMs + kubeRng.int(200, 2_500);
      if (at < durationMs) kube.push({ at, kind: 'pod-create', pod: makePod(kubeRng, podIndex++, false), afterKubeRestart: true });
    }
  }

  const rotRng = root.fork('rotation');
  const rotations = track(rotRng, durationMs, [5_000, 15_000], [8_000, 20_000], (at) => ({
    event: {
      at,
      kind: 'rotation-burst',
      containers: rotRng.int(1, 3),
      rotations: rotRng.int(2, 4),
      spacingMs: rotRng.int(20, 400),
      linesBetween: rotRng.int(5, 50),
    },
    busyMs: 1_500,
  }));

  const burstRng = root.fork('bursts');
  const bursts = track(burstRng, durationMs, [5_000, 20_000], [10_000, 30_000], (at) => {
    const durationMs_ = burstRng.int(2_000, 8_000);
    return { event: { at, kind: 'write-burst', containers: burstRng.int(1, 3), factor: burstRng.int(4, 15), durationMs: durationMs_ }, busyMs: durationMs_ };
  });

  const newRng = root.fork('new-pods');
  const newPods = track(newRng, durationMs, [6_000, 15_000], [8_000, 20_000], (at) => ({
    event: { at, kind: 'pod-create', pod: makePod(newRng, podIndex++, false), afterKubeRestart: false },
    busyMs: 0,
  }));

  const lifeRng = root.fork('lives');
  const lives = Array.from({ length: agent.length + 4 }, (_, i) => ({
    // The first life has defaults: the run starts like a fresh DaemonSet pod.
    maxInflightBytes: i > 0 && lifeRng.chance(0.5) ? 256 * 1024 : 8 * 1024 * 1024,
    shutdownGraceMs: i > 0 && lifeRng.chance(0.4) ? lifeRng.int(200, 1_500) : 25_000,
  }));

  const events = [...agent, ...es, ...kube, ...rotations, ...bursts, ...newPods].sort((a, b) => a.at - b.at);
  return { seed, durationMs, pods: initialPods, events, lives, rotateAtBytes: root.fork('sizes').int(256, 1024) * 1024, lateReopenChance: 0.3 };
}

/** One line per event, for the run's log (and to compare two runs of the same seed). */
export function describeEvent(event: FaultEvent): string {
  const at = `${(event.at / 1000).toFixed(1).padStart(6)}s`;
  switch (event.kind) {
    case 'agent-kill9':
    case 'agent-sigterm':
      return `${at} ${event.kind}, restart after ${event.restartAfterMs} ms`;
    case 'es-outage':
      return `${at} es-outage ${event.mode} for ${(event.durationMs / 1000).toFixed(1)} s`;
    case 'es-429':
      return `${at} es-429 ${event.mode}${event.mode === 'items' ? ` (${Math.round(event.itemFraction * 100)}% of items)` : ''} for ${(event.durationMs / 1000).toFixed(1)} s`;
    case 'kube-restart':
      return `${at} kube-restart, down ${event.downMs} ms`;
    case 'rotation-burst':
      return `${at} rotation-burst: ${event.containers} container(s) × ${event.rotations}, ${event.spacingMs} ms apart`;
    case 'write-burst':
      return `${at} write-burst: ${event.containers} container(s) × ${event.factor} for ${(event.durationMs / 1000).toFixed(1)} s`;
    case 'pod-create':
      return `${at} pod-create ${event.pod.namespace}/${event.pod.name} (${event.pod.containers.length} container(s))${event.afterKubeRestart ? ' just after an API server restart' : ''}`;
  }
}
