/**
 * The parse pipeline of one file: line → format (CRI / docker json / glog / logrus / plain) → partial
 * pieces joined per stream → multiline groups per stream → message parsing (JSON, logfmt) → records.
 * The tailer calls it per line and asks it where the oldest record it still holds begins, so checkpoints
 * never pass an incomplete record.
 */
import type { FileContext, LogRecord, Stream } from '../event/record.js';
import { RecordFlag } from '../event/record.js';
import type { AckBatch } from '../agent/acks.js';
import { detectContainerFormat, parseCriLine, parseDockerLine, type ContainerLine } from './container.js';
import { isGlogHeader, parseGlogLine, parseLogrusLine, type ComponentLine } from './component.js';
import { parseMessage, type MessageParsing } from './message.js';
import { MultilineAggregator } from './multiline/aggregator.js';
import { multilineLimits, multilineRule, type MultilineOptions } from './multiline/rules.js';
import { cutString, decodeText, type DecodedText } from './text.js';

export type LogFormat = 'cri' | 'docker-json' | 'plain' | 'glog' | 'logrus';
export type { MultilineOptions };

export interface FileParserOptions {
  format: LogFormat | 'auto';
  file: FileContext;
  maxRecordBytes?: number;
  message?: MessageParsing;
  jsonKey?: string;
  multiline?: MultilineOptions | undefined;
  timezone?: string;
  now?: () => number;
}

export interface ParserCounters {
  lines: number;
  records: number;
  truncated: number;
  invalidUtf8: number;
  unparsed: number;
  partialJoined: number;
  multilineJoined: number;
}

export interface FileParser {
  push(buf: Buffer, start: number, end: number, offset: number, out: LogRecord[]): void;
  pendingOffset(): number;
  flushIdle(now: number, out: LogRecord[]): void;
  flushAll(out: LogRecord[]): void;
  readonly format: LogFormat;
  readonly counters: ParserCounters;
}

/** Pieces of one record split by the runtime, per stream. */
class PartialJoin {
  offset = -1;
  timestamp = '';
  text = '';
  bytes = 0;
  flags = 0;
}

const UNSET_BATCH = undefined as unknown as AckBatch;
const GLOG_LIKE = new Set<LogFormat>(['glog', 'logrus']);

class Parser implements FileParser {
  format: LogFormat;
  readonly counters: ParserCounters = { lines: 0, records: 0, truncated: 0, invalidUtf8: 0, unparsed: 0, partialJoined: 0, multilineJoined: 0 };
  private readonly file: FileContext;
  private readonly maxBytes: number;
  private readonly messageMode: MessageParsing;
  private readonly now: () => number;
  private readonly timezone: string;
  private readonly stdoutJoin = new PartialJoin();
  private readonly stderrJoin = new PartialJoin();
  private readonly line: ContainerLine = { timestamp: '', stream: 'stdout', final: true, text: '', flags: 0 };
  private readonly decoded: DecodedText = { text: '', flags: 0 };
  /** one aggregator per stream when multiline is on (glog/logrus always: continuation lines) */
  private readonly groups: { stdout?: MultilineAggregator; stderr?: MultilineAggregator; none?: MultilineAggregator } = {};
  private readonly staged: LogRecord[] = [];

  constructor(options: FileParserOptions) {
    this.file = options.file;
    this.format = options.format === 'auto' ? 'plain' : options.format;
    this.autoDetect = options.format === 'auto';
    this.maxBytes = options.maxRecordBytes ?? 1024 * 1024;
    this.messageMode = options.message ?? 'auto';
    this.now = options.now ?? Date.now;
    this.timezone = options.timezone ?? 'UTC';
    if (options.multiline !== undefined) {
      const rule = multilineRule(options.multiline);
      const limits = multilineLimits(options.multiline);
      this.groups.stdout = new MultilineAggregator(rule, limits);
      this.groups.stderr = new MultilineAggregator(rule, limits);
      this.groups.none = new MultilineAggregator(rule, limits);
    } else if (GLOG_LIKE.has(this.format)) {
      // Lines without a header continue the record before them; nothing else joins.
      this.groups.none = new MultilineAggregator({ continues: () => false }, { flushTimeoutMs: 1000, maxLines: 500, maxBytes: this.maxBytes });
    }
  }

  private autoDetect: boolean;

  private record(offset: number, timestamp: string, message: string, stream: Stream | undefined, flags: number): LogRecord {
    if (flags & RecordFlag.INVALID_UTF8) this.counters.invalidUtf8++;
    return {
      id: this.file.idPrefix + offset,
      timestamp,
      message,
      stream,
      level: undefined,
      offset,
      flags,
      file: this.file,
      meta: this.file.meta,
      json: undefined,
      extra: undefined,
      batch: UNSET_BATCH,
    };
  }

  private readTime(): string {
    return new Date(this.now()).toISOString();
  }

  /** Cut a message to the record limit, flagging it. */
  private bounded(text: string, flags: number): [string, number] {
    if (text.length * 3 <= this.maxBytes || Buffer.byteLength(text) <= this.maxBytes) return [text, flags];
    this.counters.truncated++;
    return [cutString(text, this.maxBytes), flags | RecordFlag.TRUNCATED];
  }

  push(buf: Buffer, start: number, end: number, offset: number, out: LogRecord[]): void {
    this.counters.lines++;
    if (this.autoDetect) {
      this.autoDetect = false;
      this.format = detectContainerFormat(buf, start, end);
    }
    switch (this.format) {
      case 'cri':
      case 'docker-json':
        this.pushContainer(buf, start, end, offset);
        break;
      case 'glog':
      case 'logrus':
        this.pushComponent(buf, start, end, offset);
        break;
      default: {
        decodeText(buf, start, end, this.decoded);
        const [text, flags] = this.bounded(this.decoded.text, this.decoded.flags);
        this.stage(this.record(offset, this.readTime(), text, undefined, flags));
      }
    }
    this.drainStaged(out);
  }

  private pushContainer(buf: Buffer, start: number, end: number, offset: number): void {
    const line = this.line;
    const ok = this.format === 'cri' ? parseCriLine(buf, start, end, line) : parseDockerLine(buf, start, end, line);
    if (!ok) {
      decodeText(buf, start, end, this.decoded);
      this.counters.unparsed++;
      const [text, flags] = this.bounded(this.decoded.text, this.decoded.flags | RecordFlag.UNPARSED);
      this.stage(this.record(offset, this.readTime(), text, undefined, flags));
      return;
    }
    const join = line.stream === 'stdout' ? this.stdoutJoin : this.stderrJoin;
    if (join.offset < 0 && line.final) {
      const [text, flags] = this.bounded(line.text, line.flags);
      this.stage(this.record(offset, line.timestamp, text, line.stream, flags));
      return;
    }
    if (join.offset < 0) {
      join.offset = offset;
      join.timestamp = line.timestamp;
      join.text = '';
      join.bytes = 0;
      join.flags = 0;
    }
    join.flags |= line.flags;
    if ((join.flags & RecordFlag.TRUNCATED) === 0) {
      const pieceBytes = Buffer.byteLength(line.text);
      if (join.bytes + pieceBytes > this.maxBytes) {
        join.text += cutString(line.text, this.maxBytes - join.bytes);
        join.bytes = this.maxBytes;
        join.flags |= RecordFlag.TRUNCATED;
        this.counters.truncated++;
      } else {
        join.text += line.text;
        join.bytes += pieceBytes;
      }
    }
    this.counters.partialJoined++;
    if (line.final) {
      this.stage(this.record(join.offset, join.timestamp, join.text, line.stream, join.flags));
      join.offset = -1;
      join.text = '';
    }
  }

  private pushComponent(buf: Buffer, start: number, end: number, offset: number): void {
    decodeText(buf, start, end, this.decoded);
    const text = this.decoded.text;
    const parsed: ComponentLine | undefined =
      this.format === 'glog' ? (isGlogHeader(text) ? parseGlogLine(text, this.timezone, this.now()) : undefined) : parseLogrusLine(text);
    const group = this.groups.none!;
    if (parsed === undefined) {
      // A continuation of the previous record, or (with nothing before it) a plain line of its own.
      if (this.format === 'glog' && group.appendLine(text, this.decoded.flags, this.now(), this.staged)) return;
      const [message, flags] = this.bounded(text, this.decoded.flags);
      group.push(this.record(offset, this.readTime(), message, undefined, flags), this.now(), this.staged);
      return;
    }
    const [message, flags] = this.bounded(parsed.message, this.decoded.flags);
    const record = this.record(offset, parsed.timestamp, message, undefined, flags);
    record.level = parsed.level;
    if (parsed.originFile !== undefined || parsed.threadId !== undefined || parsed.fields !== undefined) {
      const extra: Record<string, unknown> = {};
      if (parsed.originFile !== undefined) extra.log = { origin: { file: { name: parsed.originFile, line: parsed.originLine } } };
      if (parsed.threadId !== undefined) extra.process = { thread: { id: parsed.threadId } };
      if (parsed.fields !== undefined) extra[this.format === 'glog' ? 'klog' : 'docker'] = parsed.fields;
      record.extra = extra;
    }
    group.push(record, this.now(), this.staged);
  }

  /** A finished piece-joined record: into its stream's multiline group, or straight out. */
  private stage(record: LogRecord): void {
    const group = record.stream === 'stdout' ? this.groups.stdout : record.stream === 'stderr' ? this.groups.stderr : this.groups.none;
    if (group !== undefined) group.push(record, this.now(), this.staged);
    else this.staged.push(record);
  }

  private drainStaged(out: LogRecord[]): void {
    const staged = this.staged;
    if (staged.length === 0) return;
    const mode = GLOG_LIKE.has(this.format) ? 'none' : this.messageMode;
    for (let i = 0; i < staged.length; i++) {
      const record = staged[i];
      if (mode !== 'none') parseMessage(record, mode);
      out.push(record);
    }
    this.counters.records += staged.length;
    staged.length = 0;
  }

  pendingOffset(): number {
    let oldest = -1;
    const consider = (offset: number) => {
      if (offset >= 0 && (oldest < 0 || offset < oldest)) oldest = offset;
    };
    consider(this.stdoutJoin.offset);
    consider(this.stderrJoin.offset);
    consider(this.groups.stdout?.pendingOffset() ?? -1);
    consider(this.groups.stderr?.pendingOffset() ?? -1);
    consider(this.groups.none?.pendingOffset() ?? -1);
    return oldest;
  }

  flushIdle(now: number, out: LogRecord[]): void {
    this.groups.stdout?.flushIdle(now, this.staged);
    this.groups.stderr?.flushIdle(now, this.staged);
    this.groups.none?.flushIdle(now, this.staged);
    this.collectJoinCounts();
    this.drainStaged(out);
  }

  flushAll(out: LogRecord[]): void {
    for (const join of [this.stdoutJoin, this.stderrJoin]) {
      if (join.offset >= 0) {
        this.stage(this.record(join.offset, join.timestamp, join.text, join === this.stdoutJoin ? 'stdout' : 'stderr', join.flags));
        join.offset = -1;
        join.text = '';
      }
    }
    this.groups.stdout?.flushAll(this.staged);
    this.groups.stderr?.flushAll(this.staged);
    this.groups.none?.flushAll(this.staged);
    this.collectJoinCounts();
    this.drainStaged(out);
  }

  private collectJoinCounts(): void {
    this.counters.multilineJoined = (this.groups.stdout?.joined ?? 0) + (this.groups.stderr?.joined ?? 0) + (this.groups.none?.joined ?? 0);
  }
}

export function createFileParser(options: FileParserOptions): FileParser {
  return new Parser(options);
}
