/**
 * Records made in memory the way sources make them — a FileContext and metadata per file, built once; per
 * record only the line's own fields — for benchmarks that measure a sink alone. A third of the messages
 * are JSON objects (parsed into `json`), the rest plain text of 100-200 bytes, over 50 pods with labels.
 */
import type { AckBatch } from '../../src/agent/acks.js';
import { metadataFromIdentity } from '../../src/event/metadata.js';
import type { FileContext, LogRecord } from '../../src/event/record.js';

const WORDS = [
  'GET',
  'POST',
  '/api/v1/orders',
  '/healthz',
  'user',
  'cache',
  'miss',
  'hit',
  'latency',
  'upstream',
  'connection',
  'reset',
  'retrying',
  'payment',
  'accepted',
  'worker',
];
const LEVELS = ['info', 'info', 'info', 'debug', 'warning', 'error'];

export function benchFiles(count = 50): FileContext[] {
  return Array.from({ length: count }, (_, p) => {
    const path = `/var/log/containers/app-${p}-5d8f7c9b6d-abc${p % 10}_ns-${p % 10}_app-${(p * 2654435761) >>> 0}.log`;
    return {
      path,
      pathJson: JSON.stringify(path),
      idPrefix: `b${p.toString(36)}x${(p * 40503) >>> 0}-`,
      meta: metadataFromIdentity({
        namespace: `ns-${p % 10}`,
        podName: `app-${p}-5d8f7c9b6d-abc${p % 10}`,
        podUid: `0000${p}`.slice(-5) + '-aaaa-bbbb-cccc-000000000000',
        containerName: 'app',
        containerId: `containerd://${((p + 1) * 2654435761).toString(16).padStart(16, '0')}`,
        nodeName: 'bench-node',
        labels: { app: `app-${p}`, 'app.kubernetes.io/part-of': 'shop', 'pod-template-hash': '5d8f7c9b6d' },
      }),
    };
  });
}

const VARIANTS = 4096;
interface Variant {
  message: string;
  json: Record<string, unknown> | undefined;
  level: string;
}
let variants: Variant[] | undefined;

/** Messages are drawn from a fixed set built once: making them is the source's cost, not the sink's. */
function variant(k: number): Variant {
  variants ??= Array.from({ length: VARIANTS }, (_, v) => {
    if (v % 3 === 0) {
      const json = {
        level: LEVELS[v % LEVELS.length],
        msg: `${WORDS[v % WORDS.length]} ${WORDS[(v + 5) % WORDS.length]} completed`,
        request_id: ((v * 2654435761) >>> 0).toString(16),
        duration_ms: v % 997,
      };
      return { message: json.msg, json, level: json.level };
    }
    let message = `2026-11-24T08:00:00.${String(v % 1000).padStart(3, '0')} INFO [worker-${v % 16}]`;
    for (let i = 0; i < 8 + (v % 9); i++) message += ' ' + WORDS[(v * 7 + i * 3) % WORDS.length];
    return { message: message + ` request_id=${(v * 2654435761) >>> 0}`, json: undefined, level: 'info' };
  });
  return variants[k % VARIANTS];
}

let cachedMs = -1;
let cachedPrefix = '';

/** Record number `k`: deterministic, so a replay produces the same ids and documents. */
export function benchRecord(k: number, files: FileContext[], batch: AckBatch): LogRecord {
  const file = files[k % files.length];
  const offset = Math.floor(k / files.length) * 160;
  const ms = Date.UTC(2026, 10, 24, 8, 0, 0) + Math.floor(k / 10);
  if (ms !== cachedMs) {
    cachedMs = ms;
    cachedPrefix = new Date(ms).toISOString().slice(0, 23);
  }
  const timestamp = cachedPrefix + String(k % 1_000_000).padStart(6, '0') + 'Z';
  const v = variant(k);
  return {
    id: file.idPrefix + offset,
    timestamp,
    message: v.message,
    stream: k % 5 === 0 ? 'stderr' : 'stdout',
    level: v.level,
    offset,
    flags: 0,
    file,
    meta: file.meta,
    json: v.json,
    extra: undefined,
    batch,
  };
}
