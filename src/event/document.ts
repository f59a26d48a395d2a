/**
 * A record as the JSON document every backend stores (ECS names, nested objects, as Filebeat writes them).
 * Written by string concatenation with pre-serialised per-file and per-pod fragments: one JSON.stringify
 * per record (the message) in the common case.
 */
import { flagNames, type LogRecord } from './record.js';

/** The normalised levels (src/parsers/level.ts), serialised once: most records have one of these. */
const LEVEL_JSON = new Map(['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map((l) => [l, JSON.stringify(l)]));

export interface DocumentOptions {
  /** top-level key under which a JSON message's fields go; default `json` */
  jsonKey?: string;
}

export class DocumentEncoder {
  private readonly jsonKeyPrefix: string;

  constructor(options: DocumentOptions = {}) {
    this.jsonKeyPrefix = ',' + JSON.stringify(options.jsonKey ?? 'json') + ':';
  }

  encode(record: LogRecord): string {
    let doc = '{"@timestamp":"' + record.timestamp + '","message":' + JSON.stringify(record.message);
    if (record.stream !== undefined) doc += ',"stream":"' + record.stream + '"';
    doc += ',"log":{"offset":' + record.offset + ',"file":{"path":' + record.file.pathJson + '}';
    const level = record.level;
    if (level !== undefined) doc += ',"level":' + (LEVEL_JSON.get(level) ?? JSON.stringify(level));
    if (record.flags !== 0) doc += ',"flags":' + JSON.stringify(flagNames(record.flags));
    const extra = record.extra;
    if (extra !== undefined && extra.log !== undefined) {
      const logFields = JSON.stringify(extra.log);
      if (logFields.length > 2) doc += ',' + logFields.slice(1, -1);
    }
    doc += '}';
    if (record.meta.json.length > 0) doc += ',' + record.meta.json;
    if (extra !== undefined) {
      for (const key in extra) {
        if (key === 'log') continue;
        doc += ',' + JSON.stringify(key) + ':' + JSON.stringify(extra[key]);
      }
    }
    if (record.json !== undefined) doc += this.jsonKeyPrefix + JSON.stringify(record.json);
    return doc + '}';
  }
}

/** UTC day of a record's timestamp as `YYYY.MM.DD` (for daily indices), read straight from the string. */
export function utcDay(timestamp: string): string {
  // RFC 3339 in UTC: 'YYYY-MM-DDT...Z'. Anything else goes through Date.
  if (timestamp.length >= 20 && timestamp.charCodeAt(4) === 45 && timestamp.charCodeAt(timestamp.length - 1) === 90) {
    return timestamp.slice(0, 4) + '.' + timestamp.slice(5, 7) + '.' + timestamp.slice(8, 10);
  }
  const date = new Date(timestamp);
  const iso = Number.isNaN(date.getTime()) ? new Date().toISOString() : date.toISOString();
  return iso.slice(0, 4) + '.' + iso.slice(5, 7) + '.' + iso.slice(8, 10);
}
