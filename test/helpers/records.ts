/**
 * Records for sink and store tests, built the way sources build them: a FileContext per file, metadata
 * from the file's identity, and a real AckBatch so acknowledgements can be counted.
 */
import { OrderedAcks, type AckBatch } from '../../src/agent/acks.js';
import { metadataFromIdentity, type FileIdentity } from '../../src/event/metadata.js';
import type { FileContext, LogRecord, Stream } from '../../src/event/record.js';

export function fileContext(path: string, identity: FileIdentity, idPrefix = 'test-'): FileContext {
  return { path, pathJson: JSON.stringify(path), idPrefix, meta: metadataFromIdentity(identity) };
}

export interface RecordSpec {
  message: string;
  timestamp: string;
  stream?: Stream;
  level?: string;
  offset: number;
  json?: Record<string, unknown>;
  flags?: number;
}

export class AckCounter {
  acknowledged = 0;
  commits: number[] = [];
  readonly acks = new OrderedAcks<number>((position) => this.commits.push(position));
  batch(position: number, pending: number): AckBatch {
    const batch = this.acks.newBatch(position, 0);
    batch.pending = pending;
    return batch;
  }
}

export function makeRecord(file: FileContext, spec: RecordSpec, batch: AckBatch): LogRecord {
  return {
    id: file.idPrefix + spec.offset,
    timestamp: spec.timestamp,
    message: spec.message,
    stream: spec.stream,
    level: spec.level,
    offset: spec.offset,
    flags: spec.flags ?? 0,
    file,
    meta: file.meta,
    json: spec.json,
    extra: undefined,
    batch,
  };
}

/** A batch of records whose acknowledgements settle one commit at `position`. */
export function makeBatch(counter: AckCounter, file: FileContext, specs: RecordSpec[], position = specs.length): LogRecord[] {
  const batch = counter.batch(position, specs.length);
  const records = specs.map((spec) => makeRecord(file, spec, batch));
  batch.seal();
  return records;
}

/**
 * Acknowledgement bookkeeping precise to the record: each record gets an AckBatch of its own (pending 1)
 * from a real OrderedAcks, so a record acknowledged twice shows as pending -1 and one never acknowledged
 * as pending 1 — a count alone could hide one behind the other.
 */
export class AckTracker {
  readonly commits: number[] = [];
  readonly acks = new OrderedAcks<number>((position) => this.commits.push(position));
  private readonly batches: AckBatch[] = [];
  private readonly ids: string[] = [];

  /** A sealed batch holding one record; `position` is what the commit reports. */
  batchFor(id: string, position: number): AckBatch {
    const batch = this.acks.newBatch(position, 0);
    batch.pending = 1;
    batch.seal();
    this.batches.push(batch);
    this.ids.push(id);
    return batch;
  }

  get tracked(): number {
    return this.batches.length;
  }

  /** Records acknowledged exactly once, never, and more than once (ids, first 20 of each). */
  report(): { once: number; never: string[]; twice: string[]; neverCount: number; twiceCount: number } {
    let once = 0;
    const never: string[] = [];
    const twice: string[] = [];
    for (let i = 0; i < this.batches.length; i++) {
      const pending = this.batches[i].pending;
      if (pending === 0) once++;
      else if (pending > 0) never.push(this.ids[i]);
      else twice.push(this.ids[i]);
    }
    return { once, never: never.slice(0, 20), twice: twice.slice(0, 20), neverCount: never.length, twiceCount: twice.length };
  }
}

export interface MakeRecordsOptions {
  /** default: a container log file of pod `app-1` in namespace `ns` on node `n1` */
  file?: FileContext;
  /** number of the first record (its offset is `from * 100`) */
  from?: number;
  /** per-record acknowledgement tracking; without it the records share one sealed batch of `counter` */
  tracker?: AckTracker;
  counter?: AckCounter;
  /** default: `2026-11-24T10:MM:SS.123456789Z` from the record number */
  timestamp?: (n: number) => string;
  /** default: `record <n> ✓` */
  message?: (n: number) => string;
  json?: (n: number) => Record<string, unknown> | undefined;
  level?: string;
  stream?: Stream;
}

export const defaultTestFile = fileContext(
  '/var/log/containers/app-1_ns_app-0123456789abcdef.log',
  {
    namespace: 'ns',
    podName: 'app-1',
    podUid: 'uid-1',
    containerName: 'app',
    containerId: 'containerd://0123456789abcdef',
    nodeName: 'n1',
    labels: { app: 'x', 'app.kubernetes.io/version': '1.0' },
  },
  'mr-',
);

export function testTimestamp(n: number): string {
  return `2026-11-24T10:${String(Math.floor(n / 60) % 60).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}.123456789Z`;
}

/** `n` records as a source makes them: ids `<idPrefix><offset>`, offsets `number * 100`. */
export function makeRecords(n: number, options: MakeRecordsOptions = {}): LogRecord[] {
  const file = options.file ?? defaultTestFile;
  const from = options.from ?? 0;
  const shared = options.tracker === undefined ? (options.counter ?? new AckCounter()).batch(from + n, n) : undefined;
  const records: LogRecord[] = [];
  for (let k = 0; k < n; k++) {
    const number = from + k;
    const offset = number * 100;
    const batch = shared ?? options.tracker!.batchFor(file.idPrefix + offset, number);
    records.push(
      makeRecord(
        file,
        {
          offset,
          timestamp: options.timestamp?.(number) ?? testTimestamp(number),
          message: options.message?.(number) ?? `record ${number} ✓`,
          stream: options.stream ?? 'stdout',
          level: options.level ?? 'info',
          json: options.json?.(number),
        },
        batch,
      ),
    );
  }
  shared?.seal();
  return records;
}
