/**
 * A transform changes records between parsing and the sink (enrichment, filters). It may drop records,
 * but then it must acknowledge them (`ackRecord`) so checkpoints still move past them, and count them.
 * Returning a Promise is allowed for the rare batch that must wait (a pod not yet in the metadata cache).
 * A sync throw is caught by the pipeline, which runs the batch again one record at a time and dead-letters
 * each record that still throws (see agent/component-errors.ts): so acknowledge a dropped record only
 * once nothing in the batch can throw any more, or it would be acknowledged twice.
 */
import type { LogRecord } from '../event/record.js';

export interface Transform {
  readonly name: string;
  process(records: LogRecord[]): LogRecord[] | Promise<LogRecord[]>;
}
