/**
 * The Kubernetes metadata service: one pods watch filtered to this node (`spec.nodeName`, an indexed
 * field in the API server's watch cache, so each of 5,000 nodes costs the server one cheap watch) and one
 * cluster-wide namespaces watch (small objects, rare changes), feeding a {@link PodMetadataCache}.
 * Nothing here ever issues a request on behalf of a record: a record of an unknown pod may at most cut a
 * reconnect's backoff delay short, and {@link ListWatch.retrySoon} rate-limits that.
 */
import type { Metadata } from '../event/record.js';
import { UsageError } from '../cli/errors.js';
import { resolveApiClient, type ApiClient, type ResolveOptions } from './api-client.js';
import { Backoff } from '../core/backoff.js';
import type { KubernetesConfig } from './config.js';
import { ListWatch, type KubeLog, type ListWatchStats } from './list-watch.js';
import type { KubeNamespace, KubePod } from './objects.js';
import { PodMetadataCache, type ContainerEntry, type PodCacheStats } from './pod-cache.js';
import type { PodLogOptions } from './pod-metadata.js';

export type { ContainerEntry, PodLogOptions };

/** Totals over both watched resources, plus the per-resource figures. */
export interface KubernetesStats extends PodCacheStats, Omit<ListWatchStats, 'watchEnds' | 'resourceVersion' | 'lastError'> {
  /** batches that waited for a pod to appear, and how many of those waits ran out */
  waits: number;
  waitTimeouts: number;
  synced: boolean;
  connected: boolean;
  pods: ListWatchStats;
  namespaces: ListWatchStats;
}

export interface PodMetadataLookup {
  /** Metadata for a container of a pod on this node, or undefined if the pod is not (yet) known. */
  lookup(namespace: string, podName: string, containerName: string, podUid?: string, containerId?: string): Metadata | undefined;
  /** Per-container options from the pod's logferry.io/* annotations, or undefined if the pod is unknown. */
  podOptions(namespace: string, podName: string, containerName: string, podUid?: string): PodLogOptions | undefined;
  /** The transform's fast path: entry (metadata + options) in one lookup; see {@link metadataFor}. */
  resolve(namespace: string, podName: string, containerName: string, podUid?: string): ContainerEntry | undefined;
  metadataFor(entry: ContainerEntry, containerId: string | undefined, namespace: string, podName: string, containerName: string): Metadata;
  /**
   * A promise that settles (true: the pod is known now) when the pod appears or `timeoutMs` passes, or
   * undefined when waiting is pointless: the name is known (under another uid), or this pod's
   * wait already ran out (with the watch up; or, with it down, during the same outage). A new wait while
   * the watch is down also asks for a reconnect now rather than after its backoff: a pod we have not seen
   * may be one the API server has, now that it is back.
   */
  whenKnown(namespace: string, podName: string, timeoutMs: number): Promise<boolean> | undefined;
  /** The caller has files of this pod open: keep its metadata after deletion until released. */
  retain(namespace: string, podName: string): void;
  release(namespace: string, podName: string): void;
  /** first list of pods done */
  readonly synced: boolean;
  /** pods watch currently established */
  readonly connected: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): KubernetesStats;
}

export interface KubernetesMetadataOptions {
  client: ApiClient;
  nodeName: string;
  config: KubernetesConfig;
  log?: KubeLog;
  /** injectable for tests: jitter of backoff and watch timeouts */
  random?: () => number;
  now?: () => number;
}

interface Waiter {
  promise: Promise<boolean>;
  resolve: (known: boolean) => void;
  timer: NodeJS.Timeout;
}

/** Pods that were waited for in vain are remembered (bounded) so their later batches ship at once. */
const MAX_GIVEN_UP = 4096;

function remember(set: Set<string>, key: string): void {
  if (set.size >= MAX_GIVEN_UP) set.clear();
  set.add(key);
}

export class KubernetesMetadata implements PodMetadataLookup {
  readonly cache: PodMetadataCache;
  private readonly pods: ListWatch<KubePod>;
  private readonly namespaces: ListWatch<KubeNamespace>;
  private readonly waiters = new Map<string, Waiter>();
  /** pods not seen although the pods watch was up for their whole wait: not coming */
  private readonly givenUp = new Set<string>();
  /** pods whose wait ran out with the pods watch down: waited for once more when it is back */
  private readonly givenUpWhileDown = new Set<string>();
  /** bumped on every connect and disconnect of the pods watch, to tell whether it stayed up for a wait */
  private connectionEpoch = 0;
  private wasConnected = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private waits = 0;
  private waitTimeouts = 0;
  private warnedEmpty = false;

  constructor(private readonly options: KubernetesMetadataOptions) {
    const { config, client, log } = options;
    this.cache = new PodMetadataCache({
      nodeName: options.nodeName,
      annotations: config.annotations,
      deletedPodGraceMs: config.deletedPodGraceMs,
      now: options.now,
      onPodKnown: (namespace, name) => this.podKnown(namespace, name),
      onInvalidAnnotations: (namespace, pod, problems) => log?.warn({ namespace, pod, problems }, 'ignoring malformed logferry.io annotations'),
    });
    const common = {
      client,
      watchTimeoutSeconds: config.watchTimeoutSeconds,
      requestTimeoutMs: config.requestTimeoutMs,
      random: options.random,
      log,
    };
    this.pods = new ListWatch<KubePod>({
      ...common,
      resource: 'pods',
      fieldSelector: `spec.nodeName=${options.nodeName}`,
      handler: this.cache.podHandler,
      backoff: new Backoff({ ...config.backoff, random: options.random }),
      onStateChange: () => this.stateChanged(),
    });
    this.namespaces = new ListWatch<KubeNamespace>({
      ...common,
      resource: 'namespaces',
      handler: this.cache.namespaceHandler,
      backoff: new Backoff({ ...config.backoff, random: options.random }),
    });
  }

  get synced(): boolean {
    return this.pods.synced;
  }

  get connected(): boolean {
    return this.pods.connected;
  }

  async start(): Promise<void> {
    this.pods.start();
    this.namespaces.start();
    const grace = this.options.config.deletedPodGraceMs;
    this.sweepTimer = setInterval(() => this.cache.sweep(), Math.max(50, Math.min(5000, grace / 2)));
    this.sweepTimer.unref();
    const limit = this.options.config.startTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([this.pods.whenSynced(), this.namespaces.whenSynced()]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, limit))),
    ]);
    clearTimeout(timer);
    if (!this.pods.synced) {
      this.options.log?.warn(
        { server: this.options.client.server, source: this.options.client.source, error: this.pods.stats.lastError, waitedMs: limit },
        'kubernetes metadata not available yet; records of each pod wait up to waitForPodMs for it, then ship with file-name metadata until it is',
      );
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    await Promise.all([this.pods.stop(), this.namespaces.stop()]);
    this.wakeAll();
    await this.options.client.close();
  }

  resolve(namespace: string, podName: string, containerName: string, podUid?: string): ContainerEntry | undefined {
    return this.cache.resolve(namespace, podName, containerName, podUid);
  }

  metadataFor(entry: ContainerEntry, containerId: string | undefined, namespace: string, podName: string, containerName: string): Metadata {
    return this.cache.metadata(entry, containerId, namespace, podName, containerName);
  }

  lookup(namespace: string, podName: string, containerName: string, podUid?: string, containerId?: string): Metadata | undefined {
    const entry = this.cache.resolve(namespace, podName, containerName, podUid);
    return entry === undefined ? undefined : this.cache.metadata(entry, containerId, namespace, podName, containerName);
  }

  podOptions(namespace: string, podName: string, containerName: string, podUid?: string): PodLogOptions | undefined {
    return this.cache.resolve(namespace, podName, containerName, podUid)?.options;
  }

  retain(namespace: string, podName: string): void {
    this.cache.retain(namespace, podName);
  }

  release(namespace: string, podName: string): void {
    this.cache.release(namespace, podName);
  }

  whenKnown(namespace: string, podName: string, timeoutMs: number): Promise<boolean> | undefined {
    // Not listed yet (an agent restarted while the API server is down) waits too: shipping now would
    // leave the pod's records without labels for good, while the list may be a retry away.
    if (timeoutMs <= 0) return undefined;
    const connected = this.pods.connected;
    const key = namespace + '/' + podName;
    const existing = this.waiters.get(key);
    if (existing !== undefined) return existing.promise;
    if (this.givenUp.has(key) || this.givenUpWhileDown.has(key)) return undefined;
    // Known by name but not by the file's uid: an earlier pod of that name, long gone; nothing to wait for.
    if (this.cache.has(namespace, podName)) return undefined;
    this.waits++;
    // Down is not "nothing is coming": after an API server restart the watch may sleep out a backoff of up
    // to backoff.maxMs while the server already has this pod. Only a new wait asks (at most once per pod
    // per outage, and the watches rate-limit it), so 5,000 nodes with records of unknown pods do not turn
    // an outage into a request storm.
    if (!connected) this.reconnectSoon();
    const epoch = connected ? this.connectionEpoch : -1;
    let resolve!: (known: boolean) => void;
    const promise = new Promise<boolean>((r) => (resolve = r));
    const timer = setTimeout(() => {
      this.waitTimeouts++;
      this.giveUp(key, epoch === this.connectionEpoch);
      this.settle(key, false);
    }, timeoutMs);
    this.waiters.set(key, { promise, resolve, timer });
    return promise;
  }

  stats(): KubernetesStats {
    const p = this.pods.stats;
    const n = this.namespaces.stats;
    return {
      ...this.cache.stats(),
      lists: p.lists + n.lists,
      watches: p.watches + n.watches,
      relists410: p.relists410 + n.relists410,
      events: p.events + n.events,
      bookmarks: p.bookmarks + n.bookmarks,
      errors: p.errors + n.errors,
      unauthorized: p.unauthorized + n.unauthorized,
      watchCuts: p.watchCuts + n.watchCuts,
      earlyRetries: p.earlyRetries + n.earlyRetries,
      waits: this.waits,
      waitTimeouts: this.waitTimeouts,
      synced: this.synced,
      connected: this.connected,
      pods: { ...p },
      namespaces: { ...n },
    };
  }

  private settle(key: string, known: boolean): void {
    const waiter = this.waiters.get(key);
    if (waiter === undefined) return;
    this.waiters.delete(key);
    clearTimeout(waiter.timer);
    waiter.resolve(known);
  }

  private podKnown(namespace: string, name: string): void {
    if (this.waiters.size === 0 && this.givenUp.size === 0 && this.givenUpWhileDown.size === 0) return;
    const key = namespace + '/' + name;
    this.givenUp.delete(key);
    this.givenUpWhileDown.delete(key);
    this.settle(key, true);
  }

  /**
   * A wait ran out. Only one the pods watch saw through from start to end shows the pod is not coming:
   * its later batches ship at once for good. One that ended with the watch down is retried once the watch
   * is back ({@link stateChanged} clears that set), so each pod waits at most once per outage. One during
   * which the watch came back is not remembered: the next batch waits once more, with the watch up.
   */
  private giveUp(key: string, watchedThroughout: boolean): void {
    if (watchedThroughout) remember(this.givenUp, key);
    else if (!this.pods.connected) remember(this.givenUpWhileDown, key);
  }

  private reconnectSoon(): void {
    this.pods.retrySoon();
    // The pod's namespace may be new too (its labels are part of the pod's metadata).
    if (!this.namespaces.connected) this.namespaces.retrySoon();
  }

  private wakeAll(): void {
    for (const key of [...this.waiters.keys()]) this.settle(key, false);
  }

  private stateChanged(): void {
    // Waiters are not woken when the API goes away: it may be back within their bound (see whenKnown).
    const connected = this.pods.connected;
    if (connected !== this.wasConnected) {
      this.wasConnected = connected;
      this.connectionEpoch++;
      if (connected) this.givenUpWhileDown.clear();
    }
    if (this.pods.synced && !this.warnedEmpty && this.cache.stats().podsCached === 0) {
      this.warnedEmpty = true;
      this.options.log?.warn(
        { nodeName: this.options.nodeName },
        'the API server lists no pods on this node: is NODE_NAME set to spec.nodeName (Downward API)?',
      );
    }
  }
}

export interface CreateKubernetesMetadataOptions extends ResolveOptions {
  /** fallback when the section names no nodeName: the agent's node name (config nodeName / NODE_NAME) */
  nodeName?: string;
  log?: KubeLog;
  random?: () => number;
}

/** The metadata service the configuration asks for, or undefined when disabled or no API server is configured. */
export async function createKubernetesMetadata(config: KubernetesConfig, options: CreateKubernetesMetadataOptions): Promise<KubernetesMetadata | undefined> {
  if (!config.enabled) return undefined;
  const nodeName = config.nodeName ?? options.nodeName ?? options.env.NODE_NAME;
  if (nodeName === undefined || nodeName === '') {
    throw new UsageError('kubernetes.nodeName: unknown node name; set NODE_NAME from spec.nodeName (Downward API) or kubernetes.nodeName');
  }
  const client = await resolveApiClient(config, options);
  if (client === undefined) {
    options.log?.info({}, 'no Kubernetes API configured (not in a cluster, no kubeconfig): records keep file-name metadata');
    return undefined;
  }
  options.log?.info({ server: client.server, source: client.source, nodeName }, "kubernetes metadata: watching this node's pods");
  // The config file's insecureSkipTlsVerify is warned about when the file is loaded; a kubeconfig's only here.
  if (!client.tlsVerify && !config.insecureSkipTlsVerify && client.server.startsWith('https:')) {
    options.log?.warn(
      { server: client.server, source: client.source },
      'TLS verification of the API server is off (insecure-skip-tls-verify in the kubeconfig): anyone on the path can impersonate it; give its CA (certificate-authority) instead',
    );
  }
  return new KubernetesMetadata({ client, nodeName, config, log: options.log, random: options.random });
}
