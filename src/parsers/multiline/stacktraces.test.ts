/**
 * Stack traces joined by default (`auto`): every fixture under test/fixtures/logs/stacktraces/ as a plain
 * file (sidecar, --input), as CRI lines (split into partial pieces, another stream interleaved) and as
 * docker json-file lines, against its .expected.json records. Also: the demo's own traces, bounds, the
 * flush timeout, `off` and the pod annotation, and checkpoints across a kill -9 mid-trace.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DemoNode } from '../../demo/generator.js';
import { RecordFlag, type LogRecord } from '../../event/record.js';
import { containerOptions, podFacts } from '../../kubernetes/pod-metadata.js';
import { asCri, feed, LOGS_DIR, makeParser, NOW, parseAll } from '../../../test/fixtures/feed.js';
import type { FileParserOptions } from '../file-parser.js';

const DIR = LOGS_DIR + 'stacktraces/';
const FIXTURES = readdirSync(DIR)
  .filter((f) => f.endsWith('.log'))
  .map((f) => f.slice(0, -4))
  .sort();

function load(name: string): { text: string; expected: string[] } {
  return { text: readFileSync(DIR + name + '.log', 'utf8'), expected: JSON.parse(readFileSync(DIR + name + '.expected.json', 'utf8')) as string[] };
}

/** Lines of `text` as docker json-file lines of one stream (the runtime's own timestamps). */
function asDocker(text: string, stream: 'stdout' | 'stderr'): string {
  return (
    text
      .split('\n')
      .slice(0, -1)
      .map((line, i) => JSON.stringify({ log: line + '\n', stream, time: `2026-11-24T10:00:00.${String(i + 1).padStart(9, '0')}Z` }))
      .join('\n') + '\n'
  );
}

/** Index of the first line of each expected record in the fixture's lines. */
function firstLines(expected: string[]): number[] {
  const firsts: number[] = [];
  let line = 0;
  for (const record of expected) {
    firsts.push(line);
    line += record.split('\n').length;
  }
  return firsts;
}

describe('stack traces joined by default', () => {
  for (const name of FIXTURES) {
    it(`${name}: plain file (sidecar, --input) — records as expected, each at its first line's offset`, () => {
      const { text, expected } = load(name);
      for (const format of ['plain', 'auto'] as const) {
        const { records } = parseAll(text, { format, message: 'none' });
        assert.deepEqual(
          records.map((r) => r.message),
          expected,
          format,
        );
        const lineStarts = [0];
        for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineStarts.push(Buffer.byteLength(text.slice(0, i + 1)));
        assert.deepEqual(
          records.map((r) => r.offset),
          firstLines(expected).map((i) => lineStarts[i]),
        );
      }
    });

    it(`${name}: CRI lines in partial pieces, stdout interleaved — stderr records as expected, first line's timestamp`, () => {
      const { text, expected } = load(name);
      const cri = asCri(text, 'stderr', 37).split('\n').slice(0, -1);
      // one stdout line after each complete stderr line (after its F piece)
      let n = 0;
      const lines = cri.flatMap((l) =>
        l.includes(' stderr F ') ? [l, `2026-11-24T10:00:00.${String(++n).padStart(9, '0')}Z stdout F GET /healthz 200 ${n}`] : [l],
      );
      const { records, parser } = parseAll(lines.join('\n') + '\n', { message: 'none' });
      assert.equal(parser.format, 'cri');
      const stderr = records.filter((r) => r.stream === 'stderr');
      assert.deepEqual(
        stderr.map((r) => r.message),
        expected,
      );
      const stamps = asCri(text, 'stderr')
        .split('\n')
        .map((l) => l.slice(0, 30));
      assert.deepEqual(
        stderr.map((r) => r.timestamp),
        firstLines(expected).map((i) => stamps[i]),
      );
      assert.deepEqual(
        records.filter((r) => r.stream === 'stdout').map((r) => r.message),
        Array.from({ length: n }, (_, i) => `GET /healthz 200 ${i + 1}`),
      );
    });

    it(`${name}: docker json-file lines — records as expected, first line's timestamp`, () => {
      const { text, expected } = load(name);
      const { records, parser } = parseAll(asDocker(text, 'stdout'), { message: 'none' });
      assert.equal(parser.format, 'docker-json');
      assert.deepEqual(
        records.map((r) => r.message),
        expected,
      );
      assert.deepEqual(
        records.map((r) => r.timestamp),
        firstLines(expected).map((i) => `2026-11-24T10:00:00.${String(i + 1).padStart(9, '0')}Z`),
      );
    });
  }

  it('the demo generator: its Java and Python traces come out as one record each', () => {
    const root = mkdtempSync(join(tmpdir(), 'logferry-demo-trace-'));
    try {
      const demo = new DemoNode(join(root, 'node'));
      demo.create();
      for (let i = 0; i < 100; i++) demo.tick();
      // with 3 lines per container a tick never lands the Python trace's turn on the Python container; 4 does
      for (let i = 0; i < 20; i++) demo.tick(4);
      const files = readdirSync(join(root, 'node/var/log/containers')).map((f) => join(root, 'node/var/log/containers', f));
      const all: LogRecord[] = [];
      for (const file of files) all.push(...parseAll(readFileSync(file)).records);
      const java = all.filter((r) => r.message.includes('java.lang.IllegalStateException'));
      assert.ok(java.length >= 2, 'the demo wrote Java traces');
      for (const r of java)
        assert.match(
          r.message,
          /^Exception in thread "main" java\.lang\.IllegalStateException: order \d+ has no items\n\tat com\.example\.orders\.OrderService\.place\(OrderService\.java:87\)\n\tat .*\nCaused by: java\.util\.NoSuchElementException: cart is empty\n\t\.\.\. 12 more$/,
        );
      assert.ok(!all.some((r) => r.message.startsWith('\tat ') || r.message.startsWith('Caused by')), 'no trace line on its own');
      const python = all.filter((r) => r.message.includes('Traceback'));
      assert.ok(python.length >= 2, 'the demo wrote Python traces');
      for (const r of python) assert.equal(r.message.split('\n').length, 4);
      assert.ok(!all.some((r) => r.message.startsWith('TypeError')));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('`off` (config or the logferry.io/multiline annotation) keeps every line a record; the annotation picks a rule', () => {
    const { text } = load('java');
    const off = parseAll(text, { format: 'plain', multiline: 'off' }).records;
    assert.equal(off.length, text.split('\n').length - 1);
    const annotated = (value: string) =>
      containerOptions(
        podFacts({ metadata: { name: 'p', namespace: 'n', annotations: { 'logferry.io/multiline': value } } }, () => false)!,
        'c',
      );
    assert.equal(annotated('off').multiline, 'off');
    assert.equal(annotated('none').multiline, 'none');
    assert.equal(parseAll(text, { format: 'plain', multiline: annotated('none').multiline }).records.length, off.length);
    assert.equal(annotated('auto').multiline, 'auto');
    assert.equal(annotated('Python').multiline, 'python');
    assert.equal(podFacts({ metadata: { name: 'p', namespace: 'n', annotations: { 'logferry.io/multiline': 'cobol(' } } }, () => false)!.invalid?.length, 1);
  });

  it('bounds: a goroutine dump longer than maxLines / maxBytes is cut, counted and flagged, and every line still ships', () => {
    const dump =
      'panic: boom\n\n' +
      Array.from({ length: 1200 }, (_, i) => `goroutine ${i + 1} [chan receive]:\nmain.worker(0x${i.toString(16)})\n\t/app/main.go:${i} +0x1d\n`).join('\n') +
      'after\n';
    const { records, parser } = parseAll(dump, { format: 'plain' });
    // 2 + 1200 × 3 + 1199 blank lines = 4801 lines of dump, then `after`
    assert.deepEqual(
      records.map((r) => r.message.split('\n').length),
      [1000, 1000, 1000, 1000, 801, 1],
    );
    assert.equal(records.map((r) => r.message).join('\n') + '\n', dump);
    assert.equal(parser.counters.multilineTruncated, records.length - 2);
    assert.ok(records.slice(0, -1).every((r) => (r.flags & RecordFlag.MULTILINE_TRUNCATED) !== 0));
    assert.equal(records.at(-1)!.message, 'after');
    const bytes = parseAll(dump, { format: 'plain', maxRecordBytes: 4096 }).records;
    assert.ok(bytes.every((r) => Buffer.byteLength(r.message) <= 4096));
    assert.equal(bytes.map((r) => r.message).join('\n') + '\n', dump);
  });

  it('time: a trace is released after 1 s without a line; an ordinary last line at once, an error line after 1 s', () => {
    let now = NOW;
    const parser = makeParser({ format: 'plain', now: () => now });
    const out: LogRecord[] = [];
    feed(parser, Buffer.from('ERROR charge failed\njava.lang.IllegalStateException: card declined\n\tat a.B.c(B.java:1)\n'), out);
    assert.equal(out.length, 0);
    assert.equal(parser.pendingOffset(), 0);
    parser.flushIdle(now, out, now); // the reader's check at the end of the file, right after the lines
    parser.flushIdle(now + 999, out, now);
    assert.equal(out.length, 0, 'a trace in progress waits for the flush timeout');
    parser.flushIdle(now + 1000, out, now);
    assert.deepEqual(
      out.map((r) => r.message),
      ['ERROR charge failed\njava.lang.IllegalStateException: card declined\n\tat a.B.c(B.java:1)'],
    );
    assert.equal(parser.pendingOffset(), -1);
    out.length = 0;
    now += 5000;
    feed(parser, Buffer.from('GET /healthz 200\n'), out, 1000);
    parser.flushIdle(now, out, now);
    assert.deepEqual(
      out.map((r) => r.message),
      ['GET /healthz 200'],
      'nothing can join an ordinary line: not held',
    );
    out.length = 0;
    feed(parser, Buffer.from('ERROR charge failed\n'), out, 2000);
    parser.flushIdle(now, out, now);
    assert.equal(out.length, 0, 'a line that may introduce a trace waits');
    parser.flushIdle(now + 1000, out, now);
    assert.equal(out.length, 1);
  });

  it('kill -9 mid-trace: a restart from the committed checkpoint neither loses nor duplicates a line (both streams, every cut)', () => {
    // two streams whose traces interleave: stderr Java, stdout Python
    const err = asCri(load('java').text, 'stderr', 50).split('\n').slice(0, -1);
    const out = asCri(load('python').text, 'stdout').split('\n').slice(0, -1);
    const lines: string[] = [];
    for (let i = 0; i < Math.max(err.length, out.length); i++) {
      if (i < err.length) lines.push(err[i]);
      if (i < out.length) lines.push(out[i]);
    }
    const buf = Buffer.from(lines.join('\n') + '\n');
    const options: Partial<FileParserOptions> = { message: 'none' };
    const whole = parseAll(buf, options).records;
    const lineStarts = [0];
    for (let nl = buf.indexOf(10); nl !== -1 && nl + 1 < buf.length; nl = buf.indexOf(10, nl + 1)) lineStarts.push(nl + 1);
    for (let cut = 1; cut <= lineStarts.length; cut++) {
      // first life: read `cut` lines, commit where the tailer would, die without flushing
      const end = cut < lineStarts.length ? lineStarts[cut] : buf.length;
      const first = makeParser(options);
      const shipped = feed(first, buf.subarray(0, end));
      const pending = first.pendingOffset();
      const checkpoint = pending >= 0 ? pending : end;
      // second life: from the checkpoint to the end
      const second = parseAll(buf.subarray(checkpoint), options).records.map((r) => ({ ...r, offset: r.offset + checkpoint }));
      const byOffset = new Map<number, string>();
      for (const r of [...shipped, ...second]) {
        const seen = byOffset.get(r.offset);
        assert.ok(seen === undefined || seen === r.message, `cut ${cut}: record at ${r.offset} differs after the restart`);
        byOffset.set(r.offset, r.message);
      }
      assert.deepEqual(
        [...byOffset.entries()].sort((a, b) => a[0] - b[0]),
        whole.map((r) => [r.offset, r.message] as const).sort((a, b) => a[0] - b[0]),
        `cut ${cut}`,
      );
    }
  });
});
