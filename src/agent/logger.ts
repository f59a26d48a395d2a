/** Self-logs: JSON lines on stderr, one per event that needs a person — never one per record. */
import { pino, destination, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = process.env.LOGFERRY_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'logferry', level, base: { pid: process.pid } }, destination({ fd: 2, sync: true }));
}
