/**
 * Lines cut at the record size limit are counted and reported once per file, with the file, the offset,
 * the line's size and the limit; files that are not UTF-8 text (binary, UTF-16) are skipped with one
 * warning each, while container logs and text with a stray NUL are read (issue 13, item 6).
 * Real files, the real Tailer in oneshot mode.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ackRecord } from '../../agent/acks.js';
import { InflightBudget } from '../../agent/budget.js';
import { CheckpointStore } from '../../checkpoint/store.js';
import { metadataFromIdentity } from '../../event/metadata.js';
import type { LogRecord } from '../../event/record.js';
import { looksBinary } from './binary.js';
import { Tailer } from './tailer.js';

const root = mkdtempSync(join(tmpdir(), 'logferry-file-problems-'));
after(() => rmSync(root, { recursive: true, force: true }));

let runs = 0;
async function readOnce(files: Record<string, string | Buffer>, maxRecordBytes = 1024 * 1024) {
  const dir = join(root, `run-${++runs}`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, 'logs', name), content);
  const records: LogRecord[] = [];
  const warnings: Array<{ message: string; context: Record<string, unknown> }> = [];
  const tailer = new Tailer({
    nodeName: 'node-a',
    inputs: [
      {
        name: 'files',
        patterns: [join(dir, 'logs', '*.log')],
        readFrom: 'beginning',
        displayPath: (path) => path,
        describe: () => ({ meta: metadataFromIdentity({ nodeName: 'node-a' }), origin: {}, parser: { format: 'auto' } }),
      },
    ],
    checkpoints: new CheckpointStore(join(dir, 'data')),
    budget: new InflightBudget(64 * 1024 * 1024),
    sink: {
      emit(out) {
        records.push(...out);
        for (const record of out) ackRecord(record);
      },
    },
    readChunkBytes: 256 * 1024,
    maxRecordBytes,
    rescanIntervalMs: 1000,
    oneshot: true,
    firstStart: true,
    onError: (message, context) => warnings.push({ message, context }),
  });
  await tailer.start();
  return { tailer, records, warnings, path: (name: string) => join(dir, 'logs', name) };
}

describe('lines cut at the record size limit', () => {
  it('a 5 MB line: counted, logged once for its file with offset, size and limit; the next line is read whole', async () => {
    const limit = 1024 * 1024;
    const huge = 'x'.repeat(5 * 1024 * 1024);
    const medium = 'y'.repeat(limit + 10); // a little over the limit: cut too
    const content = `before\n${huge}\nafter\n${medium}\nend\n`;
    const { tailer, records, warnings, path } = await readOnce({ 'big.log': content }, limit);
    assert.deepEqual(
      records.map((r) => [r.offset, r.message.length]),
      [
        [0, 6],
        [7, limit],
        [7 + huge.length + 1, 5],
        [7 + huge.length + 7, limit],
        [7 + huge.length + 7 + medium.length + 1, 3],
      ],
    );
    assert.equal(tailer.stats.linesCut, 2, 'both cut lines counted');
    const cuts = warnings.filter((w) => w.message.startsWith('line longer than the record size limit cut'));
    assert.equal(cuts.length, 1, `logged once per file: ${JSON.stringify(warnings)}`);
    assert.deepEqual(cuts[0].context, { file: path('big.log'), offset: 7, lineBytes: huge.length, limitBytes: limit, setting: 'pipeline.maxRecordBytes' });
  });

  it('each file with a cut line is logged once', async () => {
    const limit = 4096;
    const long = 'z'.repeat(10_000);
    const { tailer, warnings } = await readOnce({ 'a.log': `${long}\n${long}\n`, 'b.log': `short\n${long}\n` }, limit);
    assert.equal(tailer.stats.linesCut, 3);
    const cuts = warnings.filter((w) => w.message.startsWith('line longer than the record size limit cut'));
    assert.deepEqual(cuts.map((w) => [String(w.context.file).slice(-5), w.context.offset, w.context.lineBytes]).sort(), [
      ['a.log', 0, 10_000],
      ['b.log', 6, 10_000],
    ]);
  });
});

describe('files that are not UTF-8 text', () => {
  const cri = (text: string) => `2026-12-03T10:00:00.000000001Z stdout F ${text}\n`;
  const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(200), Buffer.from('\n'), Buffer.alloc(3000, 0x01)]);
  const utf16 = Buffer.from('\ufeffhello from a Windows service\r\nsecond line\r\n', 'utf16le');
  const utf16NoBom = Buffer.from('hello from a Windows service\nsecond line\n', 'utf16le');
  const strayNul = Buffer.concat([Buffer.from('a text log\n'.repeat(200)), Buffer.from('one stray \0 NUL\n'), Buffer.from('more text\n')]);
  const criWithNuls = cri('starts fine') + cri('a container printed \0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0 NULs');

  it('binary and UTF-16 files are skipped with one warning each (path, reason) and counted; text with a stray NUL and CRI logs are read', async () => {
    const { tailer, records, warnings, path } = await readOnce({
      'core.log': elf,
      'win.log': utf16,
      'win-nobom.log': utf16NoBom,
      'text.log': strayNul,
      'container.log': criWithNuls,
    });
    const skips = warnings.filter((w) => w.message.startsWith('file skipped: not UTF-8 text'));
    assert.deepEqual(skips.map((w) => w.context.file).sort(), [path('core.log'), path('win-nobom.log'), path('win.log')]);
    const reason = (name: string) => String(skips.find((w) => w.context.file === path(name))!.context.reason);
    assert.match(
      reason('core.log'),
      /looks binary: \d+% of its first \d+ bytes are NUL, control or invalid UTF-8 bytes \(if it is UTF-16 text, convert it to UTF-8\)/,
    );
    assert.match(reason('win.log'), /^UTF-16LE text \(byte-order mark\), not UTF-8: convert it/);
    assert.match(reason('win-nobom.log'), /looks like UTF-16 text without a byte-order mark/);
    assert.equal(tailer.stats.skippedBinary, 3);
    const files = new Set(records.map((r) => r.file.path));
    assert.deepEqual([...files].sort(), [path('container.log'), path('text.log')]);
    assert.equal(records.filter((r) => r.file.path === path('text.log')).length, 202);
    assert.equal(records.filter((r) => r.file.path === path('container.log')).length, 2);
    assert.equal(tailer.problems.list().length, 3);
  });

  it('the heuristic: a sample from the start only, thresholds for Latin-1 and NUL', () => {
    assert.equal(looksBinary(Buffer.from('plain ascii\n')).binary, false);
    assert.equal(
      looksBinary(Buffer.from('caf\xe9 cr\xe8me br\xfbl\xe9e, une ligne de journal assez longue\n', 'latin1')).binary,
      false,
      'Latin-1 text is not binary',
    );
    assert.equal(looksBinary(Buffer.from('x\0y\n')).binary, false, 'one NUL in a short line');
    assert.equal(looksBinary(Buffer.from('{"log":"a\\u0000b","stream":"stdout","time":"2026-12-03T10:00:00.000000001Z"}\n')).binary, false, 'docker json-file');
    assert.equal(looksBinary(Buffer.from('\x1b[31mred\x1b[0m and a tab\there\r\n')).binary, false, 'ANSI colours');
    assert.equal(
      looksBinary(
        Buffer.from([
          0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0x28, 0xcf, 0x2f, 0xca, 0x49, 0xe1, 2, 0, 0x2d, 0x3b, 8, 0xaf, 0x0c, 0, 0, 0,
        ]),
      ).binary,
      true,
      'gzip',
    );
  });
});
