/**
 * Wiring between sources and the sink: records go through the transforms, then to the sink. Order across
 * batches does not matter for correctness (acknowledgements are ordered per file by OrderedAcks), so a
 * batch waiting in a transform never holds up the others.
 *
 * Nothing a transform does may keep a record from its acknowledgement: a sync throw is caught, the batch
 * is run again one record at a time, and each record the transform still throws on is dead-lettered
 * (see component-errors.ts) — shipped as it is, flagged — so its file's checkpoint moves on.
 */
import type { LogRecord } from '../event/record.js';
import type { Sink } from '../sinks/sink.js';
import type { Transform } from '../transforms/transform.js';
import { ComponentErrors, markDeadLetter } from './component-errors.js';

export interface PipelineCounters {
  recordsIn: number;
  recordsOut: number;
  transformErrors: number;
}

/** Where a failing record came from, for the log line. */
export interface FailureSite {
  file?: string;
  offset?: number;
}

export class Pipeline {
  readonly counters: PipelineCounters = { recordsIn: 0, recordsOut: 0, transformErrors: 0 };
  private waiting = 0;
  private idleResolvers: Array<() => void> = [];

  constructor(
    private readonly transforms: readonly Transform[],
    private readonly sink: Sink,
    readonly errors: ComponentErrors = new ComponentErrors(undefined),
  ) {}

  emit(records: LogRecord[]): void {
    this.counters.recordsIn += records.length;
    this.run(records, 0);
  }

  /** A source's component (its parser) threw; the source has dead-lettered the record itself. */
  componentFailed(component: string, error: unknown, site: FailureSite): void {
    this.errors.failed(component, error, site);
  }

  private run(records: LogRecord[], from: number): void {
    let current = records;
    for (let i = from; i < this.transforms.length; i++) {
      let result: LogRecord[] | Promise<LogRecord[]>;
      try {
        result = this.transforms[i].process(current);
      } catch (error) {
        this.isolate(current, i, error);
        return;
      }
      if (result instanceof Promise) {
        this.waitFor(result, current, i);
        return;
      }
      current = result;
    }
    this.deliver(current);
  }

  private waitFor(result: Promise<LogRecord[]>, current: LogRecord[], i: number): void {
    this.waiting++;
    result.then(
      (next) => this.resume(next, i + 1),
      (error: unknown) => {
        // Which record made it fail is unknown here: ship the batch as it is rather than lose it.
        const name = this.transforms[i].name;
        this.counters.transformErrors++;
        this.errors.failed(
          `transform:${name}`,
          error,
          { file: current[0]?.file.path, offset: current[0]?.offset },
          `batch of ${current.length} records shipped without it`,
        );
        this.resume(current, i + 1);
      },
    );
  }

  /**
   * Transform `i` threw on a batch: run it on each record alone. Records it handles go on together; each
   * one it still throws on is dead-lettered and goes straight to the sink (later transforms skipped).
   */
  private isolate(records: LogRecord[], i: number, batchError: unknown): void {
    const component = `transform:${this.transforms[i].name}`;
    const survivors: LogRecord[] = [];
    const dead: LogRecord[] = [];
    const deadLetter = (record: LogRecord, error: unknown): void => {
      this.counters.transformErrors++;
      this.errors.failed(component, error, { file: record.file.path, offset: record.offset });
      dead.push(markDeadLetter(record, component, error));
    };
    if (records.length === 1) {
      deadLetter(records[0], batchError);
    } else {
      for (const record of records) {
        let result: LogRecord[] | Promise<LogRecord[]>;
        try {
          result = this.transforms[i].process([record]);
        } catch (error) {
          deadLetter(record, error);
          continue;
        }
        if (result instanceof Promise) this.waitFor(result, [record], i);
        else for (const out of result) survivors.push(out);
      }
    }
    this.deliver(dead);
    if (survivors.length > 0) this.run(survivors, i + 1);
  }

  private deliver(records: LogRecord[]): void {
    if (records.length === 0) return;
    this.counters.recordsOut += records.length;
    try {
      this.sink.write(records);
    } catch (error) {
      // The sink may hold some of them: not acknowledged, so their checkpoints stay (read again after a
      // restart); counted and reported, and a pipeline stalled by it turns /readyz red.
      this.errors.failed(
        `sink:${this.sink.name}`,
        error,
        { file: records[0].file.path, offset: records[0].offset },
        'records not acknowledged: read again after a restart',
      );
    }
  }

  private resume(records: LogRecord[], from: number): void {
    this.waiting--;
    this.run(records, from);
    if (this.waiting === 0) {
      const resolvers = this.idleResolvers;
      this.idleResolvers = [];
      for (const resolve of resolvers) resolve();
    }
  }

  /** Resolves when no batch is waiting inside a transform (then everything emitted has reached the sink). */
  drained(): Promise<void> {
    if (this.waiting === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleResolvers.push(resolve));
  }
}
