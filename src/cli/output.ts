/**
 * Printing found records like kubectl/stern: a `namespace/pod/container` prefix, the timestamp, the level
 * when known, the message. Colour only on a terminal (NO_COLOR respected); `--output json` is one document
 * per line with its `_id`.
 */
import { UsageError } from './errors.js';
import type { FoundRecord } from '../query/query.js';
import type { JsonObject } from '../core/json.js';

export type OutputFormat = 'text' | 'json';

const COLOURS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

function colourFor(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) >>> 0;
  return COLOURS[hash % COLOURS.length];
}

export function checkOutput(output: string): OutputFormat {
  if (output !== 'text' && output !== 'json') throw new UsageError(`--output: text or json (got ${JSON.stringify(output)})`);
  return output;
}

export function useColour(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

/** `namespace/pod/container` for container logs, `node/service` for component logs, else the file. */
export function sourceLabel(doc: JsonObject): string {
  const k = doc.kubernetes;
  if (k?.namespace && k?.pod?.name) return `${k.namespace}/${k.pod.name}/${k.container?.name ?? '-'}`;
  if (doc.service?.name) return `${doc.host?.name ?? '-'}/${doc.service.name}`;
  return doc.log?.file?.path ?? '-';
}

/** C0 controls but tab and newline, DEL, and C1 controls (0x9b alone starts a CSI sequence on some terminals). */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * A log line is data, not terminal commands: escape sequences in it (ESC ]0; retitles the window, ESC [31m
 * recolours, a bare CR overwrites what was printed) are shown as `\x1b`, `\x0d`... Tabs and newlines stay.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

export function formatText(record: FoundRecord, colour: boolean): string {
  const doc = record.doc;
  const label = escapeControls(sourceLabel(doc));
  const level = doc.log?.level ? ' ' + escapeControls(String(doc.log.level).toUpperCase()) : '';
  const prefix = colour ? `\x1b[${colourFor(label)}m${label}\x1b[0m` : label;
  const levelText =
    colour && /ERROR|FATAL|CRIT|PANIC/.test(level) ? `\x1b[1;31m${level}\x1b[0m` : colour && /WARN/.test(level) ? `\x1b[33m${level}\x1b[0m` : level;
  // A multi-line message (stack trace) keeps its lines; they are indented so the next record stands out.
  const message = escapeControls(String(doc.message ?? '')).replaceAll('\n', '\n    ');
  return `${prefix} ${escapeControls(String(doc['@timestamp'] ?? ''))}${levelText} ${message}`;
}

/**
 * What a search read and found, for a person at a terminal: `logferry: searched local store
 * logferry-data/store: no records matched`, `...: showing the newest 100 of 2,345 (--limit for more)`.
 */
export function summaryLine(description: string, shown: number, total: { count: number; exact: boolean }, order: 'newest' | 'oldest'): string {
  const n = (count: number) => count.toLocaleString('en-US');
  const head = `logferry: searched ${description}: `;
  if (shown === 0) return head + 'no records matched';
  if (total.exact && total.count <= shown) return head + `${n(shown)} record${shown === 1 ? '' : 's'}`;
  return head + `showing the ${order} ${n(shown)} of ${total.exact ? '' : 'more than '}${n(total.count)} (--limit for more)`;
}

export function formatJson(record: FoundRecord): string {
  return JSON.stringify({ _id: record.id, ...record.doc });
}

export function formatRecords(records: readonly FoundRecord[], format: OutputFormat, colour: boolean): string {
  let out = '';
  for (const record of records) out += (format === 'json' ? formatJson(record) : formatText(record, colour)) + '\n';
  return out;
}

/** `logferry search | head`: a closed pipe ends the command quietly instead of with a stack trace. */
export function exitQuietlyOnBrokenPipe(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
