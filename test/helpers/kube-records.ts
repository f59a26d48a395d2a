/**
 * Records as the container-log source makes them (file-name metadata, an ack batch per read), for
 * transform tests and benchmarks that do not need files on disk.
 */
import { OrderedAcks, type AckBatch } from '../../src/agent/acks.js';
import { metadataFromIdentity } from '../../src/event/metadata.js';
import type { FileContext, LogRecord } from '../../src/event/record.js';

export interface FileIdentityInput {
  namespace: string;
  podName: string;
  containerName: string;
  podUid?: string;
  containerId?: string;
  nodeName?: string;
}

export function containerFile(identity: FileIdentityInput): FileContext {
  const path = `/var/log/containers/${identity.podName}_${identity.namespace}_${identity.containerName}-${identity.containerId ?? '0'.repeat(64)}.log`;
  return {
    path,
    pathJson: JSON.stringify(path),
    idPrefix: `${identity.namespace}.${identity.podName}.${identity.containerName}.`,
    meta: metadataFromIdentity({ ...identity, nodeName: identity.nodeName ?? 'node-a' }),
  };
}

/** One file's ack tracker, so tests can see that dropped records still let the offset advance. */
export class FileAcks {
  committed: number | undefined;
  private readonly acks = new OrderedAcks<number>((position) => {
    this.committed = position;
  });

  /** `count` records of `file` in one sealed batch ending at byte `position`. */
  batch(file: FileContext, count: number, position: number, firstOffset = 0): { batch: AckBatch; records: LogRecord[] } {
    const batch = this.acks.newBatch(position, 100 * count);
    const records: LogRecord[] = [];
    for (let i = 0; i < count; i++) records.push(makeRecord(file, batch, firstOffset + i * 100, `line ${i}`));
    batch.pending = count;
    batch.seal();
    return { batch, records };
  }
}

export function makeRecord(file: FileContext, batch: AckBatch, offset: number, message: string): LogRecord {
  return {
    id: file.idPrefix + offset,
    timestamp: '2026-11-24T08:00:00.000000000Z',
    message,
    stream: 'stdout',
    level: undefined,
    offset,
    flags: 0,
    file,
    meta: file.meta,
    json: undefined,
    extra: undefined,
    batch,
  };
}
