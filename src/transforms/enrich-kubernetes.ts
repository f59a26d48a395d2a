/**
 * Kubernetes enrichment: a container record's metadata becomes its pod's cached, pre-serialised
 * {@link Metadata} (one pointer assignment per record). Pods annotated `logferry.io/exclude` (or whose
 * container is listed in `logferry.io/exclude-containers`) are dropped here — acknowledged, so their
 * file offsets still advance, and counted.
 *
 * A record whose pod the cache does not know yet makes its batch wait (bounded) for the pod's ADDED
 * event, which can trail a short-lived pod's first lines; only batches with such records return a
 * Promise. With the watch down (an API server restarting, say) the wait also makes the metadata service
 * reconnect at once instead of after its backoff; if that fails, the wait still ends at its bound. Before
 * the first list nothing waits. Records that go out unenriched keep the metadata their file name gives,
 * and `metadataMissing` counts them.
 */
import { ackRecord } from '../agent/acks.js';
import type { FileContext, LogRecord, Metadata } from '../event/record.js';
import type { PodMetadataLookup } from '../kubernetes/metadata-service.js';
import type { Transform } from './transform.js';

export interface EnrichKubernetesOptions {
  /** longest wait for an unknown pod, per batch; 0 never waits. Default 2000. */
  waitForPodMs?: number;
}

export interface EnrichKubernetesCounters {
  enriched: number;
  /** dropped by logferry.io/exclude annotations (and acknowledged) */
  excluded: number;
  /** container records shipped with file-name metadata only */
  metadataMissing: number;
  /** batches that waited for a pod, and the total time they waited */
  waitedBatches: number;
  waitedMs: number;
}

const PASS = 0;
const ENRICH = 1;
const EXCLUDE = 2;
const MISSING = 3;
const PENDING = 4;

export class EnrichKubernetes implements Transform {
  readonly name = 'enrich-kubernetes';
  readonly counters: EnrichKubernetesCounters = { enriched: 0, excluded: 0, metadataMissing: 0, waitedBatches: 0, waitedMs: 0 };
  private readonly waitForPodMs: number;
  // Per-run state of the current pass: records of one file arrive in runs, so the cache is asked once per run.
  private runFile: FileContext | undefined;
  private runState = PASS;
  private runMeta: Metadata | undefined;
  private pendingWait: Promise<boolean> | undefined;

  constructor(
    private readonly lookup: PodMetadataLookup,
    options: EnrichKubernetesOptions = {},
  ) {
    this.waitForPodMs = options.waitForPodMs ?? 2000;
  }

  process(records: LogRecord[]): LogRecord[] | Promise<LogRecord[]> {
    const waits = this.pass(records, undefined);
    if (waits === undefined) return records;
    const started = Date.now();
    this.counters.waitedBatches++;
    return Promise.all(waits.promises).then(() => {
      this.counters.waitedMs += Date.now() - started;
      this.pass(records, waits.files);
      return records;
    });
  }

  /**
   * Enriches and filters `records` in place. First pass (`only` undefined): records of pods worth
   * waiting for are kept untouched and their files returned with the promises to wait on. Second pass:
   * only records of those files are handled, and nobody waits any more.
   */
  private pass(records: LogRecord[], only: Set<FileContext> | undefined): { promises: Promise<boolean>[]; files: Set<FileContext> } | undefined {
    let waits: { promises: Promise<boolean>[]; files: Set<FileContext> } | undefined;
    let write = 0;
    this.runFile = undefined;
    const counters = this.counters;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      const file = record.file;
      if (only !== undefined && !only.has(file)) {
        records[write++] = record;
        continue;
      }
      if (file !== this.runFile) {
        this.runFile = file;
        this.startRun(file, only === undefined);
        if (this.runState === PENDING) {
          waits ??= { promises: [], files: new Set() };
          if (!waits.files.has(file)) {
            waits.files.add(file);
            waits.promises.push(this.pendingWait!);
          }
        }
      }
      switch (this.runState) {
        case ENRICH:
          record.meta = this.runMeta!;
          counters.enriched++;
          break;
        case EXCLUDE:
          ackRecord(record);
          counters.excluded++;
          continue;
        case MISSING:
          counters.metadataMissing++;
          break;
        default:
          break;
      }
      records[write++] = record;
    }
    records.length = write;
    this.runFile = undefined;
    this.runMeta = undefined;
    this.pendingWait = undefined;
    return waits;
  }

  private startRun(file: FileContext, mayWait: boolean): void {
    const fields = file.meta.fields;
    const namespace = fields.namespace;
    const podName = fields.podName;
    const containerName = fields.containerName;
    this.runMeta = undefined;
    if (namespace === undefined || podName === undefined || containerName === undefined || fields.serviceName !== undefined) {
      this.runState = PASS;
      return;
    }
    const entry = this.lookup.resolve(namespace, podName, containerName, fields.podUid);
    if (entry !== undefined) {
      if (entry.options.exclude) {
        this.runState = EXCLUDE;
        return;
      }
      this.runMeta = this.lookup.metadataFor(entry, fields.containerId, namespace, podName, containerName);
      this.runState = ENRICH;
      return;
    }
    const wait = mayWait ? this.lookup.whenKnown(namespace, podName, this.waitForPodMs) : undefined;
    if (wait !== undefined) {
      this.pendingWait = wait;
      this.runState = PENDING;
    } else {
      this.runState = MISSING;
    }
  }
}
