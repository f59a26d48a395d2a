/**
 * What a finished record's own text says about it, applied once per record after message parsing (so
 * after partial and multiline joining: a joined stack trace gets its first line's time and level):
 *   - `log.level`, for every record that has none yet (JSON and logfmt levels were lifted already, glog
 *     and logrus headers set theirs): see ./level.ts;
 *   - `@timestamp`, only for records whose source has no time of its own (`lineTime`: plain files). A
 *     container runtime's timestamp is never replaced; a line without a time keeps its read time.
 * A JSON message is not parsed again: its time comes from the object message parsing made.
 */
import type { LogRecord } from '../event/record.js';
import { textLevel } from './level.js';
import { LineClock, newTimeParts, scanAccessLogTime, scanTimePrefix, timeShapeEnd } from './line-time.js';

export class LineFacts {
  private readonly parts = newTimeParts();

  constructor(private readonly clock: LineClock) {}

  apply(record: LogRecord, lineTime: boolean): void {
    if (lineTime) {
      this.withTime(record);
      return;
    }
    // container lines: the level only, and only the cheap checks (see textLevel)
    if (record.level !== undefined || record.json !== undefined) return;
    const text = record.message;
    const c0 = text.charCodeAt(0);
    if (c0 === 123) return; // a JSON object that did not parse: nothing to read at its head
    const level = textLevel(text, (c0 >= 48 && c0 <= 57) || c0 === 91 ? timeShapeEnd(text) : 0);
    if (level !== undefined) record.level = level;
  }

  private withTime(record: LogRecord): void {
    const json = record.json;
    if (json !== undefined) {
      const timestamp = this.clock.fromFields(json);
      if (timestamp !== undefined) record.timestamp = timestamp;
      return;
    }
    const text = record.message;
    if (text.charCodeAt(0) === 123) return;
    const p = this.parts;
    // Ruby Logger's time is inside `E, [...]`
    const ruby = text.charCodeAt(1) === 44 && text.charCodeAt(2) === 32 && text.charCodeAt(3) === 91;
    let timeEnd = scanTimePrefix(text, ruby ? 3 : 0, p);
    let found = timeEnd > 0;
    if (!found && scanAccessLogTime(text, p) > 0) found = true;
    if (found) {
      const timestamp = this.clock.timestamp(text, p);
      if (timestamp !== undefined) record.timestamp = timestamp;
    }
    if (ruby) timeEnd = 0;
    if (record.level === undefined) {
      const level = textLevel(text, timeEnd);
      if (level !== undefined) record.level = level;
    }
  }
}
