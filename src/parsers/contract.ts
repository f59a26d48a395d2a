/**
 * What the tailer sees of a file parser: options, counters, the interface, and option checks that
 * config validation can run before any file is opened.
 */
import type { FileContext, LogRecord } from '../event/record.js';
import { GlogClock } from './glog.js';
import type { MessageParsing } from './message.js';
import type { MultilineOptions } from './multiline/options.js';

export type LogFormat = 'cri' | 'docker-json' | 'plain' | 'glog' | 'logrus';

export interface FileParserOptions {
  /** 'auto': decided by the first non-empty line (CRI, docker json, glog, logrus, else plain) */
  format: LogFormat | 'auto';
  file: FileContext;
  /** longest record (UTF-8 bytes of the message); longer ones are cut, flagged and counted. Default 1 MiB */
  maxRecordBytes?: number;
  /** how to read the message text; default 'auto' (JSON objects → json.*), 'none' for glog / logrus */
  message?: MessageParsing;
  /**
   * Join lines into records (per stream, after partial pieces are joined). Default `auto`: stack traces
   * of every runtime detected and joined; `off` for none. glog files always group header-less lines with
   * the line before; for them only the bounds and flush timeout of this apply.
   */
  multiline?: MultilineOptions | undefined;
  /** IANA zone of times written without one (glog headers, zone-less times in plain lines); default UTC */
  timezone?: string;
  /** clock (ms): read time of lines without their own, glog year inference, idle timeouts */
  now?: () => number;
}

export interface ParserCounters {
  /** lines pushed */
  lines: number;
  /** records handed out */
  records: number;
  /** records cut at maxRecordBytes */
  truncated: number;
  /** records with invalid UTF-8 replaced */
  invalidUtf8: number;
  /** lines not in their file's format, shipped as-is */
  unparsed: number;
  /** runtime pieces (CRI P, docker without newline) joined to the piece after them */
  partialJoined: number;
  /** lines joined to the line before them (multiline rules, glog continuation lines) */
  multilineJoined: number;
  /** multiline records cut at their max lines / max bytes bound */
  multilineTruncated: number;
}

export interface FileParser {
  /**
   * One line without its '\n' (nor a '\r' before it): buf[start,end), the bytes at file offset `offset`.
   * Records completed by it are appended to `out`, with `batch` unset (the tailer's) and `meta` the
   * file's. Never throws on input.
   */
  push(buf: Buffer, start: number, end: number, offset: number, out: LogRecord[]): void;
  /**
   * File offset of the oldest record still held (a partial line, a multiline group, a glog record that
   * may get continuation lines), or -1. A checkpoint must not pass it.
   */
  pendingOffset(): number;
  /**
   * Release what has waited for its next line longer than its timeout (multiline flush timeout; 5 s for a
   * partial line), counted from the later of its last line and `quietSinceMs` (for multiline groups, the
   * time of the first call after the line stands for the line's: lines are not timed one by one); at
   * once for a group no later line can join (an ordinary last line). Meant for files read to
   * their end, with `quietSinceMs` the time since which the file is known not to have grown: a paused
   * reader looks just like an idle writer, so only the reader can tell the two apart.
   */
  flushIdle(now: number, out: LogRecord[], quietSinceMs?: number): void;
  /** Release everything held: the file will not grow any more (rotated away and drained, deleted). */
  flushAll(out: LogRecord[]): void;
  /** The file's format; with 'auto', `plain` until the first non-empty line decides. */
  readonly format: LogFormat;
  readonly counters: ParserCounters;
}

export class ParserConfigError extends Error {
  override readonly name = 'ParserConfigError';
}

/** undefined when `timeZone` is usable, else what is wrong with it (for config validation). */
export function timezoneProblem(timeZone: string): string | undefined {
  try {
    new GlogClock(timeZone);
    return undefined;
  } catch (error) {
    return `timezone: ${JSON.stringify(timeZone)} is not a time zone name this runtime knows (IANA, e.g. "Europe/Berlin"): ${(error as Error).message}`;
  }
}
