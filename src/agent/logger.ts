/**
 * Self-logs on stderr, one per event that needs a person — never one per record. JSON lines for machines
 * (`logferry run` in a pod has no terminal); readable lines when stderr is a terminal (see log-format.ts).
 */
import { writeSync } from 'node:fs';
import { pino, destination, type Logger } from 'pino';
import { chooseLogFormat, formatLogLine } from './log-format.js';

export type { Logger };

export function createLogger(level = process.env.LOGFERRY_LOG_LEVEL ?? 'info'): Logger {
  const options = { name: 'logferry', level, base: { pid: process.pid } };
  if (chooseLogFormat(process.env, process.stderr.isTTY === true) === 'json') return pino(options, destination({ fd: 2, sync: true }));
  const colour = process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';
  // Synchronous like the JSON destination: a line logged just before exit is not lost.
  return pino(options, { write: (line: string) => void writeSync(2, formatLogLine(line, { colour })) });
}
