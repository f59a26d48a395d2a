/**
 * Benchmark corpus: a kubelet-style tree of CRI files with realistic lines — plain text and JSON
 * messages, 10% of records split into partial (P) pieces — generated once and cached by its parameters.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface CorpusOptions {
  dir: string;
  records: number;
  pods: number;
  /** fraction of records written as partial pieces */
  partialFraction?: number;
}

export interface Corpus {
  root: string;
  records: number;
  lines: number;
  bytes: number;
  files: number;
}

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
  'ms',
  'upstream',
  'connection',
  'reset',
  'retrying',
  'order',
  'created',
  'payment',
  'accepted',
  'worker',
  'started',
];
/** the level of JSON message n is LEVELS[n % 6] */
export const LEVELS = ['info', 'info', 'info', 'debug', 'warn', 'error'];

/** Record n's message when it is a plain line (two records in three). */
export function plainMessage(n: number): string {
  let out = `${new Date(1_764_000_000_000 + n).toISOString()} INFO [worker-${n % 16}]`;
  for (let i = 0; i < 8 + (n % 9); i++) out += ' ' + WORDS[(n * 7 + i * 3) % WORDS.length];
  return out + ` request_id=${(n * 2654435761) >>> 0}`;
}

/** Record n's message when it is a JSON object (every third record). */
export function jsonMessage(n: number): string {
  return JSON.stringify({
    level: LEVELS[n % LEVELS.length],
    ts: 1_764_000_000 + n / 1000,
    msg: `${WORDS[n % WORDS.length]} ${WORDS[(n + 5) % WORDS.length]} completed`,
    request_id: ((n * 2654435761) >>> 0).toString(16),
    duration_ms: n % 997,
    path: WORDS[(n + 2) % 4 === 0 ? 2 : 3],
  });
}

/** Record n's message: a third JSON objects, the rest plain lines. */
export function corpusMessage(n: number): string {
  return n % 3 === 0 ? jsonMessage(n) : plainMessage(n);
}

export function generateCorpus(options: CorpusOptions): Corpus {
  const partialFraction = options.partialFraction ?? 0.1;
  // Records are dated today (UTC): a corpus dated in the past would fall out of the local store's
  // retention (7 days) and be deleted as fast as it is written, so the cache is per day.
  const base = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  const key = createHash('sha1')
    .update(JSON.stringify({ ...options, dir: undefined, v: 2, base }))
    .digest('hex')
    .slice(0, 10);
  const root = join(options.dir, `corpus-${key}`);
  const marker = join(root, 'corpus.json');
  if (existsSync(marker)) return JSON.parse(readFileSync(marker, 'utf8')) as Corpus;
  rmSync(root, { recursive: true, force: true });
  const linkDir = join(root, 'var/log/containers');
  mkdirSync(linkDir, { recursive: true });
  const fds: number[] = [];
  for (let p = 0; p < options.pods; p++) {
    const ns = `ns-${p % 10}`;
    const pod = `app-${p}-5d8f7c9b6d-abc${p % 10}`;
    const uid = `0000${p}`.slice(-5) + '-aaaa-bbbb-cccc-000000000000';
    const dir = join(root, 'var/log/pods', `${ns}_${pod}_${uid}`, 'app');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, '0.log');
    writeFileSync(file, '');
    const id = createHash('sha256').update(pod).digest('hex');
    symlinkSync(file, join(linkDir, `${pod}_${ns}_app-${id}.log`));
    fds.push(openSync(file, 'a'));
  }
  const buffers: string[] = new Array(options.pods).fill('');
  let lines = 0;
  let bytes = 0;
  for (let n = 0; n < options.records; n++) {
    const p = n % options.pods;
    const ms = base + Math.floor(n / 10);
    const ts = new Date(ms).toISOString().slice(0, 19) + '.' + String((ms % 1000) * 1_000_000 + (n % 1_000_000)).padStart(9, '0') + 'Z';
    const stream = n % 5 === 0 ? 'stderr' : 'stdout';
    const message = corpusMessage(n);
    let text: string;
    if ((n * 7919) % 100 < partialFraction * 100) {
      const cut = Math.floor(message.length / 2);
      text = `${ts} ${stream} P ${message.slice(0, cut)}\n${ts} ${stream} F ${message.slice(cut)}\n`;
      lines += 2;
    } else {
      text = `${ts} ${stream} F ${message}\n`;
      lines++;
    }
    buffers[p] += text;
    if (buffers[p].length > 1 << 16) {
      bytes += writeSync(fds[p], buffers[p]);
      buffers[p] = '';
    }
  }
  for (let p = 0; p < options.pods; p++) {
    if (buffers[p]) bytes += writeSync(fds[p], buffers[p]);
    closeSync(fds[p]);
  }
  const corpus: Corpus = { root, records: options.records, lines, bytes, files: options.pods };
  writeFileSync(marker, JSON.stringify(corpus));
  return corpus;
}
