/**
 * The record that flows from sources to sinks.
 *
 * Per-file and per-pod facts live in shared, immutable objects ({@link FileContext}, {@link Metadata})
 * that are built once and referenced by every record: the hot path only fills the per-line fields.
 */
import type { AckBatch } from '../agent/acks.js';

/** Bits of {@link LogRecord.flags}; encoded as the ECS-style `log.flags` keyword array. */
export const RecordFlag = {
  /** the record was longer than the configured maximum and was cut */
  TRUNCATED: 1,
  /** invalid UTF-8 was replaced by U+FFFD */
  INVALID_UTF8: 2,
  /** the line did not match its file's format (CRI / docker json) and is shipped as-is */
  UNPARSED: 4,
  /** the message looked like JSON but did not parse */
  JSON_ERROR: 8,
  /** a multiline record was cut at its max lines / max bytes bound */
  MULTILINE_TRUNCATED: 16,
  /** NUL bytes were removed from the message */
  NUL_REMOVED: 32,
  /**
   * a parser or transform threw on this record: it is shipped as it was when that happened (the raw line
   * for a parser) with `error.message` saying why, a dead letter kept where the logs are searched
   */
  COMPONENT_ERROR: 64,
} as const;

export const RECORD_FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [RecordFlag.TRUNCATED, 'truncated'],
  [RecordFlag.INVALID_UTF8, 'invalid_utf8'],
  [RecordFlag.UNPARSED, 'unparsed'],
  [RecordFlag.JSON_ERROR, 'json_error'],
  [RecordFlag.MULTILINE_TRUNCATED, 'multiline_truncated'],
  [RecordFlag.NUL_REMOVED, 'nul_removed'],
  [RecordFlag.COMPONENT_ERROR, 'component_error'],
];

export function flagNames(flags: number): string[] {
  const names: string[] = [];
  for (const [bit, name] of RECORD_FLAG_NAMES) if (flags & bit) names.push(name);
  return names;
}

/**
 * Facts about where a record comes from that do not change per line: Kubernetes identity, host, service.
 * `json` is the same facts pre-serialised as a JSON object body fragment (no braces, no leading or
 * trailing comma), e.g. `"kubernetes":{"namespace":"a","pod":{"name":"b"}},"host":{"name":"n1"}`,
 * so encoders splice it in instead of serialising an object per record.
 */
export interface Metadata {
  readonly json: string;
  readonly fields: MetadataFields;
}

/** The object form of {@link Metadata}: used by the local store (columns) and by filters. */
export interface MetadataFields {
  readonly namespace?: string;
  readonly podName?: string;
  readonly podUid?: string;
  readonly containerName?: string;
  readonly containerId?: string;
  readonly nodeName?: string;
  readonly hostName?: string;
  readonly serviceName?: string;
  /** dedotted label keys */
  readonly labels?: Readonly<Record<string, string>>;
  /** the whole nested ECS object (kubernetes, container, host, service) — what `json` serialises */
  readonly document: Readonly<Record<string, unknown>>;
}

/** One tailed file (or one journald stream). Built once when the file is opened. */
export interface FileContext {
  /** `log.file.path` */
  readonly path: string;
  /** JSON.stringify(path), done once */
  readonly pathJson: string;
  /** base of every record `_id` from this file: hash(node, file fingerprint); `_id = idPrefix + offset` */
  readonly idPrefix: string;
  /** metadata known from the file name alone (namespace, pod, container, container id, node) */
  readonly meta: Metadata;
}

export type Stream = 'stdout' | 'stderr';

export interface LogRecord {
  /** deterministic document id: stable across restarts, unique per (node, file, offset) */
  id: string;
  /** RFC 3339 UTC timestamp, up to nanosecond precision, e.g. `2026-11-24T15:30:15.123456789Z` */
  timestamp: string;
  message: string;
  stream: Stream | undefined;
  /** normalised (src/parsers/level.ts): trace, debug, info, warn, error, fatal; an unknown explicit level lower-cased */
  level: string | undefined;
  /** byte offset of the record's first byte in its file (`log.offset`) */
  offset: number;
  /** bitset of {@link RecordFlag} */
  flags: number;
  file: FileContext;
  /** current metadata: the file's own, or the enriched pod metadata (a shared object) */
  meta: Metadata;
  /** parsed JSON message (`json.*`), when the message was a JSON object */
  json: Record<string, unknown> | undefined;
  /** other structured fields merged at the top level of the document: `log.origin`, `process`, `klog`, ... */
  extra: Record<string, unknown> | undefined;
  /** acknowledgement handle: the sink calls {@link ackRecord} once per record when it is delivered */
  batch: AckBatch;
}
