/** Printing records like kubectl/stern: a `namespace/pod/container` prefix, colour only on a terminal. */
import type { FoundRecord } from '../query/query.js';

const COLOURS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

function colourFor(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) >>> 0;
  return COLOURS[hash % COLOURS.length];
}

export function sourceLabel(doc: Record<string, any>): string {
  const k = doc.kubernetes;
  if (k?.namespace && k?.pod?.name) return `${k.namespace}/${k.pod.name}/${k.container?.name ?? '-'}`;
  if (doc.service?.name) return `${doc.host?.name ?? '-'}/${doc.service.name}`;
  return doc.log?.file?.path ?? '-';
}

export function formatText(record: FoundRecord, colour: boolean): string {
  const doc = record.doc;
  const label = sourceLabel(doc);
  const level = doc.log?.level ? ` ${String(doc.log.level).toUpperCase()}` : '';
  const prefix = colour ? `\x1b[${colourFor(label)}m${label}\x1b[0m` : label;
  const levelText = colour && /ERROR|FATAL|CRITICAL/.test(level) ? `\x1b[1;31m${level}\x1b[0m` : level;
  return `${prefix} ${doc['@timestamp'] ?? ''}${levelText} ${doc.message ?? ''}`;
}

export function formatJson(record: FoundRecord): string {
  return JSON.stringify({ _id: record.id, ...record.doc });
}
