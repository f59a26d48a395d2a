/**
 * This node's pods and the cluster's namespace labels, as ready-made per-container {@link Metadata}.
 *
 * Everything is built when a watch event arrives (a few per pod lifetime), never when a record asks:
 * a lookup is three Map reads. A container's Metadata object is kept (same identity) when an event
 * changes nothing it shows, e.g. a readiness flip.
 *
 * Deleted pods stay for `deletedPodGraceMs` after deletion, after the last lookup that used them, and
 * while a caller holds a reference (`retain`) because the pod's files are still being read.
 */
import type { Metadata } from '../event/record.js';
import type { KubeNamespace, KubePod, WatchHandler } from './objects.js';
import { annotationMatcher, containerMetadata, containerOptions, namespaceLabels, podFacts, type PodFacts, type PodLogOptions } from './pod-metadata.js';

export interface ContainerEntry {
  readonly meta: Metadata;
  readonly options: PodLogOptions;
  /** the API's id of the container's current instance */
  readonly containerId: string | undefined;
  /** Metadata for other instances' ids (files from before a restart), built on first use */
  variants: Map<string, Metadata> | undefined;
}

interface PodEntry {
  facts: PodFacts;
  containers: Map<string, ContainerEntry>;
  deletedAt: number | undefined;
  lastUsedAt: number;
}

interface NamespaceEntry {
  labels: Record<string, string> | undefined;
  key: string;
}

export interface PodCacheOptions {
  nodeName: string;
  annotations: readonly string[];
  deletedPodGraceMs: number;
  now?: () => number;
  /** a pod became known or changed (wakes records waiting for it) */
  onPodKnown?: (namespace: string, name: string) => void;
  /** a pod's logferry.io/* annotations are malformed (reported once per change) */
  onInvalidAnnotations?: (namespace: string, name: string, problems: string[]) => void;
}

export interface PodCacheStats {
  podsCached: number;
  deletedPodsRetained: number;
  namespacesCached: number;
  /** container Metadata objects built (each one serialised once) */
  metadataBuilt: number;
  podsExpired: number;
}

const MAX_VARIANTS = 8;

export class PodMetadataCache {
  private readonly byName = new Map<string, Map<string, PodEntry>>();
  private readonly byUid = new Map<string, PodEntry>();
  private readonly namespaces = new Map<string, NamespaceEntry>();
  private readonly refs = new Map<string, number>();
  private readonly keepAnnotation: (key: string) => boolean;
  private readonly now: () => number;
  private metadataBuilt = 0;
  private podsExpired = 0;

  readonly podHandler: WatchHandler<KubePod> = {
    replace: (items) => this.replacePods(items),
    apply: (type, pod) => (type === 'DELETED' ? this.deletePod(pod) : this.upsertPod(pod)),
  };

  readonly namespaceHandler: WatchHandler<KubeNamespace> = {
    replace: (items) => this.replaceNamespaces(items),
    apply: (type, ns) => (type === 'DELETED' ? this.deleteNamespace(ns) : this.upsertNamespace(ns)),
  };

  constructor(private readonly options: PodCacheOptions) {
    this.keepAnnotation = annotationMatcher(options.annotations);
    this.now = options.now ?? Date.now;
  }

  /**
   * The container's entry. `podUid` (from the file's /var/log/pods path) picks the right pod when a
   * StatefulSet pod was recreated under the same name while the old one's files are still being read.
   */
  resolve(namespace: string, podName: string, containerName: string, podUid?: string): ContainerEntry | undefined {
    let entry = this.byName.get(namespace)?.get(podName);
    if (podUid !== undefined && (entry === undefined || (entry.facts.uid !== podUid && entry.facts.mirrorUid !== podUid))) entry = this.byUid.get(podUid);
    if (entry === undefined) return undefined;
    if (entry.deletedAt !== undefined) entry.lastUsedAt = this.now();
    return entry.containers.get(containerName) ?? this.addUnlistedContainer(entry, containerName);
  }

  /** The Metadata for records of `entry` from a file naming `containerId` (if known). */
  metadata(entry: ContainerEntry, containerId: string | undefined, namespace: string, podName: string, containerName: string): Metadata {
    // A file naming an id the API does not show (yet, or any more) keeps that id: it is the file's truth.
    if (containerId === undefined || containerId === entry.containerId) return entry.meta;
    const known = entry.variants?.get(containerId);
    if (known !== undefined) return known;
    const pod = this.byName.get(namespace)?.get(podName);
    const facts = pod?.facts.uid === entry.meta.fields.podUid ? pod?.facts : this.byUid.get(entry.meta.fields.podUid ?? '')?.facts;
    if (facts === undefined) return entry.meta;
    const meta = containerMetadata(facts, containerName, this.namespaces.get(namespace)?.labels, this.options.nodeName, containerId);
    this.metadataBuilt++;
    if (entry.variants === undefined || entry.variants.size >= MAX_VARIANTS) entry.variants = new Map();
    entry.variants.set(containerId, meta);
    return meta;
  }

  has(namespace: string, podName: string): boolean {
    return this.byName.get(namespace)?.has(podName) ?? false;
  }

  /** A reader holds the pod's files open: keep its metadata past deletion until {@link release}. */
  retain(namespace: string, podName: string): void {
    const key = namespace + '/' + podName;
    this.refs.set(key, (this.refs.get(key) ?? 0) + 1);
  }

  release(namespace: string, podName: string): void {
    const key = namespace + '/' + podName;
    const count = (this.refs.get(key) ?? 0) - 1;
    if (count > 0) this.refs.set(key, count);
    else this.refs.delete(key);
  }

  /** Forgets deleted pods whose grace period is over and that nobody retains. */
  sweep(now = this.now()): number {
    let removed = 0;
    const grace = this.options.deletedPodGraceMs;
    for (const [uid, entry] of this.byUid) {
      if (entry.deletedAt === undefined) continue;
      if (now - Math.max(entry.deletedAt, entry.lastUsedAt) < grace) continue;
      const { namespace, name } = entry.facts;
      if (this.refs.has(namespace + '/' + name)) continue;
      this.byUid.delete(uid);
      const names = this.byName.get(namespace);
      if (names?.get(name) === entry) {
        names.delete(name);
        if (names.size === 0) this.byName.delete(namespace);
      }
      removed++;
    }
    this.podsExpired += removed;
    return removed;
  }

  stats(): PodCacheStats {
    let deleted = 0;
    for (const entry of this.byUid.values()) if (entry.deletedAt !== undefined) deleted++;
    return {
      podsCached: this.byUid.size,
      deletedPodsRetained: deleted,
      namespacesCached: this.namespaces.size,
      metadataBuilt: this.metadataBuilt,
      podsExpired: this.podsExpired,
    };
  }

  private addUnlistedContainer(entry: PodEntry, containerName: string): ContainerEntry {
    // A container the pod spec does not list (yet): pod-level metadata still beats none.
    const created = this.buildContainer(entry.facts, containerName, undefined);
    entry.containers.set(containerName, created);
    return created;
  }

  private buildContainer(facts: PodFacts, name: string, previous: ContainerEntry | undefined): ContainerEntry {
    const meta = containerMetadata(facts, name, this.namespaces.get(facts.namespace)?.labels, this.options.nodeName);
    const options = containerOptions(facts, name);
    if (previous !== undefined && previous.meta.json === meta.json && sameOptions(previous.options, options)) return previous;
    this.metadataBuilt++;
    return { meta, options, containerId: facts.containers.get(name)?.id, variants: undefined };
  }

  private rebuild(entry: PodEntry): void {
    const next = new Map<string, ContainerEntry>();
    for (const name of entry.facts.containers.keys()) next.set(name, this.buildContainer(entry.facts, name, entry.containers.get(name)));
    for (const [name, previous] of entry.containers) if (!next.has(name)) next.set(name, this.buildContainer(entry.facts, name, previous));
    entry.containers = next;
  }

  private upsertPod(pod: KubePod): PodEntry | undefined {
    const facts = podFacts(pod, this.keepAnnotation);
    if (facts === undefined) return undefined;
    let entry = this.byUid.get(facts.uid);
    const previousProblems = entry?.facts.invalid?.join('\n');
    if (entry === undefined) {
      entry = { facts, containers: new Map(), deletedAt: undefined, lastUsedAt: 0 };
      this.byUid.set(facts.uid, entry);
    } else {
      entry.facts = facts;
      entry.deletedAt = undefined;
    }
    let names = this.byName.get(facts.namespace);
    if (names === undefined) this.byName.set(facts.namespace, (names = new Map()));
    names.set(facts.name, entry);
    this.rebuild(entry);
    if (facts.invalid !== undefined && facts.invalid.join('\n') !== previousProblems)
      this.options.onInvalidAnnotations?.(facts.namespace, facts.name, facts.invalid);
    this.options.onPodKnown?.(facts.namespace, facts.name);
    return entry;
  }

  private deletePod(pod: KubePod): void {
    // The DELETED event carries the pod's last state: keep it (final container ids) and start the grace.
    const entry = this.upsertPod(pod);
    if (entry !== undefined) entry.deletedAt = this.now();
  }

  private replacePods(items: KubePod[]): void {
    const seen = new Set<string>();
    for (const pod of items) {
      const entry = this.upsertPod(pod);
      if (entry !== undefined) seen.add(entry.facts.uid);
    }
    // Pods missing from a relist were deleted while the watch was away.
    const now = this.now();
    for (const [uid, entry] of this.byUid) if (!seen.has(uid) && entry.deletedAt === undefined) entry.deletedAt = now;
  }

  private setNamespace(ns: KubeNamespace): string | undefined {
    const name = ns?.metadata?.name;
    if (typeof name !== 'string') return undefined;
    const labels = namespaceLabels(ns.metadata?.labels);
    const key = labels === undefined ? '' : JSON.stringify(labels);
    const previous = this.namespaces.get(name);
    if (previous !== undefined && previous.key === key) return undefined;
    this.namespaces.set(name, { labels, key });
    return name;
  }

  private rebuildNamespace(namespace: string): void {
    for (const entry of this.byUid.values()) if (entry.facts.namespace === namespace) this.rebuild(entry);
  }

  private upsertNamespace(ns: KubeNamespace): void {
    const changed = this.setNamespace(ns);
    if (changed !== undefined) this.rebuildNamespace(changed);
  }

  private deleteNamespace(ns: KubeNamespace): void {
    // Pods of a deleted namespace are being deleted too; their metadata keeps the labels they had.
    const name = ns?.metadata?.name;
    if (typeof name === 'string') this.namespaces.delete(name);
  }

  private replaceNamespaces(items: KubeNamespace[]): void {
    const seen = new Set<string>();
    const changed: string[] = [];
    for (const ns of items) {
      const name = ns?.metadata?.name;
      if (typeof name !== 'string') continue;
      seen.add(name);
      const updated = this.setNamespace(ns);
      if (updated !== undefined) changed.push(updated);
    }
    for (const name of this.namespaces.keys()) if (!seen.has(name)) this.namespaces.delete(name);
    for (const name of changed) this.rebuildNamespace(name);
  }
}

function sameOptions(a: PodLogOptions, b: PodLogOptions): boolean {
  return a.exclude === b.exclude && a.parser === b.parser && a.multiline === b.multiline;
}
