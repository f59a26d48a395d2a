/**
 * Self-logs as a person reads them. Machines (a pod's stderr, a pipe, a file) get pino's JSON lines; a
 * person at a terminal gets `10:04:05 WARN  message  key=value ...` rewritten from those same lines, so
 * what is logged never depends on who reads it. Hand-written rather than pino-pretty: a few dozen lines,
 * no transport worker thread, nothing more in the image.
 */
import { ENV_VARS } from '../config/env-vars.js';

export type LogFormat = 'json' | 'text';

/** `LOGFERRY_LOG_FORMAT=json|text` wins; otherwise text exactly when stderr is a terminal. */
export function chooseLogFormat(env: NodeJS.ProcessEnv, stderrIsTTY: boolean): LogFormat {
  const chosen = env[ENV_VARS.LOGFERRY_LOG_FORMAT];
  if (chosen === 'json' || chosen === 'text') return chosen;
  return stderrIsTTY ? 'text' : 'json';
}

/** pino's numeric levels */
const LEVELS: Record<number, { name: string; colour: string }> = {
  10: { name: 'TRACE', colour: '90' },
  20: { name: 'DEBUG', colour: '90' },
  30: { name: 'INFO', colour: '32' },
  40: { name: 'WARN', colour: '33' },
  50: { name: 'ERROR', colour: '31' },
  60: { name: 'FATAL', colour: '31;1' },
};

/** Fields every line has, or that a person has no use for on a terminal. */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

/**
 * A log line can carry text from outside (a file name, an error from a server): shown escaped, so it
 * cannot move the cursor or recolour the terminal. Tabs and newlines are kept.
 */
function escapeControls(text: string): string {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function showValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? escapeControls(value) : escapeControls(JSON.stringify(value));
  return escapeControls(JSON.stringify(value) ?? String(value));
}

function clock(time: unknown): string {
  const date = typeof time === 'number' ? new Date(time) : new Date();
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/**
 * One JSON line from pino as one (or, with an error's stack, several) human lines, newline-terminated.
 * A line that is not JSON is passed through as it came.
 */
export function formatLogLine(line: string, options: { colour: boolean }): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : line + '\n';
  }
  const level = LEVELS[Number(entry.level)] ?? { name: String(entry.level).toUpperCase(), colour: '0' };
  const levelText = level.name.padEnd(5);
  let out = `${clock(entry.time)} ${options.colour ? `\x1b[${level.colour}m${levelText}\x1b[0m` : levelText} ${escapeControls(String(entry.msg ?? ''))}`;
  let stack: string | undefined;
  const fields: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (HIDDEN.has(key) || value === undefined) continue;
    // pino's error serializer: the message goes on the line, the stack (debug level only) below it.
    if (key === 'err' && value !== null && typeof value === 'object') {
      const error = value as { message?: unknown; stack?: unknown };
      fields.push(`err=${showValue(error.message)}`);
      if (typeof error.stack === 'string') stack = error.stack;
      continue;
    }
    fields.push(`${key}=${showValue(value)}`);
  }
  if (fields.length > 0) out += `  ${options.colour ? `\x1b[2m${fields.join(' ')}\x1b[0m` : fields.join(' ')}`;
  out += '\n';
  if (stack) out += escapeControls(stack).replace(/^/gm, '    ') + '\n';
  return out;
}
