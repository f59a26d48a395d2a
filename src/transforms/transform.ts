/**
 * A transform changes records between parsing and the sink (enrichment, filters). It may drop records,
 * but then it must acknowledge them (`ackRecord`) so checkpoints still move past them, and count them.
 * Returning a Promise is allowed for the rare batch that must wait (a pod not yet in the metadata cache).
 */
import type { LogRecord } from '../event/record.js';

export interface Transform {
  readonly name: string;
  process(records: LogRecord[]): LogRecord[] | Promise<LogRecord[]>;
}
