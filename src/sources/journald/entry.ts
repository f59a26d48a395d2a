/**
 * One `journalctl -o json` entry as a record. Its id comes from (node, cursor), not from when or how it
 * was read: an entry read again (the agent restarted from its committed cursor) is stored once.
 */
import { createHash } from 'node:crypto';
import type { FileContext, LogRecord, Metadata } from '../../event/record.js';
import { isGlogHeader, parseGlogLine } from '../../parsers/component.js';

/** syslog priorities 0-7 as the ECS level names every other source uses (see src/parsers/level.ts) */
const PRIORITY_LEVELS = ['fatal', 'fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug'];

export interface JournalEntry {
  MESSAGE?: string | number[] | null;
  __CURSOR?: string;
  __REALTIME_TIMESTAMP?: string;
  PRIORITY?: string;
  _SYSTEMD_UNIT?: string;
  SYSLOG_IDENTIFIER?: string;
  _PID?: string;
}

function microsToTimestamp(micros: string | undefined): string {
  const value = Number(micros);
  if (!Number.isFinite(value) || value <= 0) return new Date().toISOString();
  const ms = Math.floor(value / 1000);
  return new Date(ms).toISOString().slice(0, 19) + '.' + String(value % 1_000_000).padStart(6, '0') + '000Z';
}

/** The unit an entry is attributed to (service.name). */
export function entryUnit(entry: JournalEntry): string {
  return entry._SYSTEMD_UNIT ?? entry.SYSLOG_IDENTIFIER ?? 'journald';
}

/** The record of an entry (the caller checked it has a cursor); `batch` is attached when its batch goes out. */
export function entryRecord(entry: JournalEntry, cursor: string, nodeName: string, file: FileContext, meta: Metadata): LogRecord {
  let message = entry.MESSAGE;
  if (Array.isArray(message)) message = Buffer.from(message).toString('utf8'); // binary-safe form journald uses for non-UTF-8
  const record: LogRecord = {
    id: 'j' + createHash('sha1').update(`${nodeName}\0${cursor}`).digest('base64url').slice(0, 22),
    timestamp: microsToTimestamp(entry.__REALTIME_TIMESTAMP),
    message: typeof message === 'string' ? message : '',
    stream: undefined,
    level: PRIORITY_LEVELS[Number(entry.PRIORITY)] ?? undefined,
    offset: 0,
    flags: 0,
    file,
    meta,
    json: undefined,
    extra: entry._PID ? { process: { pid: Number(entry._PID) } } : undefined,
    batch: undefined as never,
  };
  // kubelet under systemd still writes glog lines: lift level, origin and thread from them.
  if (isGlogHeader(record.message)) {
    const glog = parseGlogLine(record.message, 'UTC', Date.now());
    if (glog !== undefined) {
      record.message = glog.message;
      record.level = glog.level;
      record.extra = {
        ...record.extra,
        log: { origin: { file: { name: glog.originFile, line: glog.originLine } } },
        ...(glog.fields ? { klog: glog.fields } : {}),
      };
    }
  }
  return record;
}
