/**
 * parse_cri: the file parser alone over in-memory CRI lines shaped like the file_to_* corpus (a third JSON
 * messages, 10% of records in two partial pieces, a fifth on stderr), fed in 256 KiB chunks split on '\n'
 * the way the tailer does. Reports CPU-seconds per million records for:
 *   split    — finding the lines only (the floor any parser sits on),
 *   none     — split + CRI parse + partial join, message left as text,
 *   auto     — the default: JSON object messages parsed into json.* (the difference to `none` is JSON.parse).
 * Usage: node parse-cri.js [records] [case name]
 */
import { metadataFromIdentity } from '../../src/event/metadata.js';
import type { FileContext, LogRecord } from '../../src/event/record.js';
import { createFileParser } from '../../src/parsers/file-parser.js';
import { corpusMessage } from '../lib/corpus.js';
import { peakRssMb, report } from '../lib/measure.js';

const records = Number(process.argv[2] ?? 1_000_000);
const name = process.argv[3] ?? 'parse_cri';
const CHUNK = 256 * 1024;

/** Chunks that end on a line boundary, as the tailer hands complete lines to the parser. */
function corpus(): { chunks: Buffer[]; lines: number; bytes: number } {
  const chunks: Buffer[] = [];
  let text = '';
  let lines = 0;
  let bytes = 0;
  const base = Date.UTC(2026, 10, 24, 8, 0, 0);
  for (let n = 0; n < records; n++) {
    const ms = base + Math.floor(n / 10);
    // containerd trims trailing zeros of the fraction: vary the length like it does
    const fraction = String((ms % 1000) * 1_000_000 + (n % 1_000_000))
      .padStart(9, '0')
      .replace(/0+$/, '');
    const ts = new Date(ms).toISOString().slice(0, 19) + (fraction ? '.' + fraction : '') + 'Z';
    const stream = n % 5 === 0 ? 'stderr' : 'stdout';
    const msg = corpusMessage(n);
    if ((n * 7919) % 100 < 10) {
      const cut = msg.length >> 1;
      text += `${ts} ${stream} P ${msg.slice(0, cut)}\n${ts} ${stream} F ${msg.slice(cut)}\n`;
      lines += 2;
    } else {
      text += `${ts} ${stream} F ${msg}\n`;
      lines++;
    }
    if (text.length >= CHUNK) {
      const buf = Buffer.from(text);
      bytes += buf.length;
      chunks.push(buf);
      text = '';
    }
  }
  if (text) {
    const buf = Buffer.from(text);
    bytes += buf.length;
    chunks.push(buf);
  }
  return { chunks, lines, bytes };
}

const file: FileContext = {
  path: '/var/log/containers/app-0_ns_app-0123.log',
  pathJson: '"/var/log/containers/app-0_ns_app-0123.log"',
  idPrefix: 'Zm9vYmFyYmF6cXV4:',
  meta: metadataFromIdentity({ namespace: 'ns', podName: 'app-0', containerName: 'app', nodeName: 'bench' }),
};

type Mode = 'split' | 'none' | 'auto';

function run(mode: Mode, chunks: Buffer[]): { cpuSeconds: number; seconds: number; produced: number } {
  const parser = createFileParser({ format: 'auto', file, message: mode === 'auto' ? 'auto' : 'none' });
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  let produced = 0;
  let offset = 0;
  let sink = 0;
  const out: LogRecord[] = [];
  for (const buf of chunks) {
    let start = 0;
    for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
      if (mode === 'split') sink += nl - start;
      else parser.push(buf, start, nl, offset + start, out);
      start = nl + 1;
    }
    offset += buf.length;
    produced += out.length;
    out.length = 0;
  }
  parser.flushAll(out);
  produced += out.length;
  const cpu = process.cpuUsage(cpuBefore);
  if (mode === 'split') produced = records + (sink & 0);
  return { cpuSeconds: (cpu.user + cpu.system) / 1e6, seconds: Number(process.hrtime.bigint() - started) / 1e9, produced };
}

const { chunks, lines, bytes } = corpus();
const results: Record<string, string> = {};
let auto = { cpuSeconds: 0, seconds: 0, produced: 0 };
// Warm up once (JIT), then measure each mode on the whole corpus.
run('auto', chunks.slice(0, 20));
for (const mode of ['split', 'none', 'auto'] as Mode[]) {
  const result = run(mode, chunks);
  if (result.produced !== records) throw new Error(`${mode}: produced ${result.produced} records, expected ${records}`);
  results[mode] = ((result.cpuSeconds / records) * 1e6).toFixed(2);
  process.stderr.write(`${mode}: ${results[mode]} CPU-s per 1M records, ${Math.round(records / result.seconds)} records/s\n`);
  if (mode === 'auto') auto = result;
}
report({
  case: name,
  records,
  bytes,
  seconds: Math.round(auto.seconds * 100) / 100,
  recordsPerSecond: Math.round(records / auto.seconds),
  mbPerSecond: Math.round((bytes / 1048576 / auto.seconds) * 100) / 100,
  cpuSecondsPerMillion: Number(results.auto),
  peakRssMb: Math.round(peakRssMb() * 100) / 100,
  notes: `${lines} lines in memory; CPU-s/1M: split ${results.split}, parse without JSON ${results.none}, with JSON messages ${results.auto}`,
});
