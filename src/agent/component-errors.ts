/**
 * What happens when a parser or a transform throws: the record it threw on becomes a dead letter (shipped
 * as it was, flagged `component_error`, with `error.message`), the failure is counted per component and
 * logged (one line per component at a time, see {@link THROTTLE_MS}), and a component that keeps failing
 * makes the agent not ready. A bug in one component must cost one record its processing, never a file its
 * checkpoint or the agent its in-flight budget.
 */
import { RecordFlag, type FileContext, type LogRecord } from '../event/record.js';
import type { AckBatch } from './acks.js';

/** A repeated failure is logged at most this often per component, with the number not logged meanwhile. */
const THROTTLE_MS = 30_000;
/** A component that failed this many times within {@link FAILING_WINDOW_MS} makes /readyz red. */
export const FAILING_THRESHOLD = 10;
export const FAILING_WINDOW_MS = 60_000;
/** Dead-lettered raw lines are cut here (they are read back, not parsed again). */
const MAX_DEAD_LINE_CHARS = 64 * 1024;
const UNSET_BATCH = undefined as unknown as AckBatch;
const DEAD_LETTERED = 'record dead-lettered: shipped unprocessed with log.flags component_error and error.message';

export interface ComponentErrorLog {
  error(context: Record<string, unknown>, message: string): void;
  debug(context: Record<string, unknown>, message: string): void;
}

/** The error's message (never its stack: that goes to the debug line), one line, bounded. */
export function errorMessage(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(/\s+/g, ' ').slice(0, 1000);
}

/**
 * Turn `record` into a dead letter of `component`: it keeps every field it had and gains
 * `log.flags: component_error` and `error.{type,message}` (ECS), so it is stored and searchable.
 */
export function markDeadLetter(record: LogRecord, component: string, error: unknown): LogRecord {
  record.flags |= RecordFlag.COMPONENT_ERROR;
  record.extra = { ...record.extra, error: { type: 'component_error', message: `${component} threw: ${errorMessage(error)}` } };
  return record;
}

/**
 * The record for a raw line a parser threw on: the line as text, read time as its timestamp, the id a
 * record starting at that offset always has (a replay after a restart stays one document).
 */
export function rawLineRecord(file: FileContext, line: Buffer, offset: number, component: string, error: unknown): LogRecord {
  const text = line.toString('utf8');
  const record: LogRecord = {
    id: file.idPrefix + offset,
    timestamp: new Date().toISOString(),
    message: text.length > MAX_DEAD_LINE_CHARS ? text.slice(0, MAX_DEAD_LINE_CHARS) : text,
    stream: undefined,
    level: undefined,
    offset,
    flags: RecordFlag.UNPARSED | (text.length > MAX_DEAD_LINE_CHARS ? RecordFlag.TRUNCATED : 0),
    file,
    meta: file.meta,
    json: undefined,
    extra: undefined,
    batch: UNSET_BATCH,
  };
  return markDeadLetter(record, component, error);
}

interface ComponentState {
  total: number;
  /** failure times within the window (bounded: only the last FAILING_THRESHOLD matter) */
  recent: number[];
  lastMessage: string;
  lastLogMs: number;
  suppressed: number;
}

/** Counts and logs component failures; answers whether some component is failing right now. */
export class ComponentErrors {
  private readonly components = new Map<string, ComponentState>();

  constructor(
    private readonly log: ComponentErrorLog | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** One failure of `component` on the record at `file`/`offset` (when known); `outcome` says what became of it. */
  failed(component: string, error: unknown, where: { file?: string; offset?: number } = {}, outcome = DEAD_LETTERED): void {
    const now = this.now();
    let state = this.components.get(component);
    if (state === undefined) {
      state = { total: 0, recent: [], lastMessage: '', lastLogMs: 0, suppressed: 0 };
      this.components.set(component, state);
    }
    state.total++;
    state.lastMessage = errorMessage(error);
    state.recent.push(now);
    if (state.recent.length > FAILING_THRESHOLD) state.recent.shift();
    if (this.log === undefined) return;
    if (state.lastLogMs !== 0 && now - state.lastLogMs < THROTTLE_MS) {
      state.suppressed++;
      return;
    }
    const context: Record<string, unknown> = { component, file: where.file, offset: where.offset, error: state.lastMessage };
    if (state.suppressed > 0) context.similarSinceLastLine = state.suppressed;
    state.lastLogMs = now;
    state.suppressed = 0;
    this.log.error(context, `${component} failed; ${outcome}`);
    if (error instanceof Error && error.stack !== undefined) this.log.debug({ component, stack: error.stack }, 'component error stack');
  }

  /** failures per component since start, for `logferry_pipeline_component_errors_total` */
  totals(): Array<[component: string, count: number]> {
    return [...this.components].map(([component, state]) => [component, state.total]);
  }

  get total(): number {
    let sum = 0;
    for (const state of this.components.values()) sum += state.total;
    return sum;
  }

  /** Why the pipeline is not ready because of a failing component, or undefined. */
  failingReason(): string | undefined {
    const since = this.now() - FAILING_WINDOW_MS;
    for (const [component, state] of this.components) {
      if (state.recent.length >= FAILING_THRESHOLD && state.recent[0] >= since) {
        return `${component} failing: ${FAILING_THRESHOLD}+ failures in the last ${FAILING_WINDOW_MS / 1000}s (last error: ${state.lastMessage.slice(0, 200)})`;
      }
    }
    return undefined;
  }
}
