/**
 * logrus text format, as the docker daemon (and containerd) write it:
 *   `time="2026-11-24T09:30:00.123456789Z" level=info msg="Starting up" storage-driver=overlay2`
 * Fields other than time, level and msg are kept (as strings) under `docker.*`.
 */
import { normaliseLevel } from './level.js';
import { parseLogfmt } from './message.js';
import { toUtcTimestamp } from './time.js';

export interface LogrusLine {
  timestamp: string;
  level: string;
  message: string;
  fields: Record<string, string> | undefined;
}

const PREFIX = 'time="';

/** Quick check used to tell a logrus line from a plain one. */
export function isLogrusLine(line: string): boolean {
  return line.startsWith(PREFIX);
}

export function parseLogrusLine(line: string): LogrusLine | undefined {
  if (!line.startsWith(PREFIX)) return undefined;
  const fields = parseLogfmt(line);
  const time = fields?.time;
  if (fields === undefined || time === undefined) return undefined;
  let timestamp = toUtcTimestamp(time);
  if (timestamp === undefined) {
    // logrus' default TimestampFormat is RFC 3339 without a fraction; anything else Date understands
    const ms = Date.parse(time);
    if (Number.isNaN(ms)) return undefined;
    timestamp = new Date(ms).toISOString();
  }
  let rest: Record<string, string> | undefined;
  for (const key in fields) {
    if (key === 'time' || key === 'level' || key === 'msg') continue;
    (rest ??= {})[key] = fields[key];
  }
  return { timestamp, level: normaliseLevel(fields.level) ?? 'info', message: fields.msg ?? '', fields: rest };
}
