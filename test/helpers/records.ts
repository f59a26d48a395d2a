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
