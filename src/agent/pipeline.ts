/**
 * Wiring between sources and the sink: records go through the transforms, then to the sink. Order across
 * batches does not matter for correctness (acknowledgements are ordered per file by OrderedAcks), so a
 * batch waiting in a transform never holds up the others.
 */
import type { LogRecord } from '../event/record.js';
import type { Sink } from '../sinks/sink.js';
import type { Transform } from '../transforms/transform.js';

export interface PipelineCounters {
  recordsIn: number;
  recordsOut: number;
  transformErrors: number;
}

export class Pipeline {
  readonly counters: PipelineCounters = { recordsIn: 0, recordsOut: 0, transformErrors: 0 };
  private waiting = 0;
  private idleResolvers: Array<() => void> = [];

  constructor(
    private readonly transforms: readonly Transform[],
    private readonly sink: Sink,
    private readonly onError: (message: string, context: Record<string, unknown>) => void = () => undefined,
  ) {}

  emit(records: LogRecord[]): void {
    this.counters.recordsIn += records.length;
    this.run(records, 0);
  }

  private run(records: LogRecord[], from: number): void {
    let current = records;
    for (let i = from; i < this.transforms.length; i++) {
      const result = this.transforms[i].process(current);
      if (result instanceof Promise) {
        this.waiting++;
        result.then(
          (next) => this.resume(next, i + 1),
          (error: unknown) => {
            // A transform bug must not lose records: ship them as they are.
            this.counters.transformErrors++;
            this.onError('transform failed; records shipped without it', { transform: this.transforms[i].name, error: String(error) });
            this.resume(current, i + 1);
          },
        );
        return;
      }
      current = result;
    }
    if (current.length > 0) {
      this.counters.recordsOut += current.length;
      this.sink.write(current);
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
