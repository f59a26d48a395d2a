import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordFlag, type LogRecord } from '../../event/record.js';
import { asCri, fixture, lineOffset, makeParser, NOW, parseAll } from '../../../test/fixtures/feed.js';
import type { FileParserOptions } from '../file-parser.js';
import { MultilineConfigError, multilineProblem } from './options.js';

/** The fixture's lines grouped as expected: each group is [first line index, line count]. */
function groups(text: string, spans: Array<[number, number]>): string[] {
  const lines = text.split('\n');
  return spans.map(([first, count]) => lines.slice(first, first + count).join('\n'));
}

function plain(name: string, multiline: FileParserOptions['multiline']) {
  const buf = fixture(name);
  const { records, parser } = parseAll(buf, { format: 'plain', multiline, message: 'none' });
  return { buf, text: buf.toString(), records, parser };
}

describe('multiline', () => {
  it('java: exception, frames, Caused by, Suppressed, "... N more" in one record; log lines around stay apart', () => {
    const { buf, text, records, parser } = plain('java.log', 'java');
    assert.deepEqual(
      records.map((r) => r.message),
      groups(text, [
        [0, 1],
        [1, 11],
        [12, 1],
      ]),
    );
    assert.deepEqual(
      records.map((r) => r.offset),
      [0, lineOffset(buf, 'Exception in thread'), lineOffset(buf, '2026-11-24 10:00:00.100')],
    );
    assert.equal(parser.counters.multilineJoined, 10);
  });

  it('java in CRI: a trace split into partial pieces, with stdout lines interleaved, arrives as one record', () => {
    const java = fixture('java.log').toString();
    const cri = asCri(java, 'stderr', 25).split('\n');
    // a stdout line in the middle of the stderr trace: another stream, another group
    cri.splice(6, 0, '2026-11-24T10:00:00.000000004Z stdout F GET /orders/42 500');
    const buf = Buffer.from(cri.join('\n'));
    const { records, parser } = parseAll(buf, { multiline: 'java' });
    assert.equal(parser.format, 'cri');
    const stderr = records.filter((r) => r.stream === 'stderr');
    assert.deepEqual(
      stderr.map((r) => r.message),
      groups(java, [
        [0, 1],
        [1, 11],
        [12, 1],
      ]),
    );
    assert.equal(stderr[1].offset, lineOffset(buf, '2026-11-24T10:00:00.000000002Z'), 'the first piece of the first line');
    assert.equal(stderr[1].timestamp, '2026-11-24T10:00:00.000000002Z');
    assert.deepEqual(
      records.filter((r) => r.stream === 'stdout').map((r) => r.message),
      ['GET /orders/42 500'],
    );
    assert.ok(parser.counters.partialJoined > 0);
  });

  it('python: a traceback with a chained exception is one record', () => {
    const { text, records } = plain('python.log', 'python');
    assert.deepEqual(
      records.map((r) => r.message),
      groups(text, [
        [0, 1],
        [1, 14],
        [15, 1],
      ]),
    );
  });

  it('go: a panic and its goroutine dump, blank lines between goroutines included', () => {
    const { text, records } = plain('go-panic.log', 'go');
    assert.deepEqual(
      records.map((r) => r.message),
      groups(text, [
        [0, 1],
        [1, 13],
        [14, 1],
      ]),
    );
  });

  it('go: a blank line after the dump is its own record, not the tail of the panic', () => {
    const { records } = parseAll('panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:8 +0x1d\n\nnext line\n', {
      format: 'plain',
      multiline: 'go',
    });
    assert.deepEqual(
      records.map((r) => r.message),
      ['panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:8 +0x1d', '', 'next line'],
    );
  });

  it('nodejs: error with frames, error with a properties block, an uncaught exception with its header and the Node.js version', () => {
    const { text, records } = plain('nodejs.log', 'nodejs');
    assert.deepEqual(
      records.map((r) => r.message),
      groups(text, [
        [0, 1],
        [1, 4],
        [5, 1],
        [6, 8],
        [14, 9],
      ]),
    );
  });

  it('custom: start expression, continue expression, both, and the annotation form', () => {
    const log = '2026-11-24 10:00:00 ERROR failed\ndetail one\n  detail two\n2026-11-24 10:00:01 INFO ok\n';
    const start = parseAll(log, { format: 'plain', multiline: { start: '^\\d{4}-\\d{2}-\\d{2} ' } }).records;
    assert.deepEqual(
      start.map((r) => r.message),
      ['2026-11-24 10:00:00 ERROR failed\ndetail one\n  detail two', '2026-11-24 10:00:01 INFO ok'],
    );
    const annotation = parseAll(log, { format: 'plain', multiline: '^\\d{4}-\\d{2}-\\d{2} ' }).records;
    assert.deepEqual(
      annotation.map((r) => r.message),
      start.map((r) => r.message),
    );
    const cont = parseAll(log, { format: 'plain', multiline: { continue: '^\\s' } }).records;
    assert.deepEqual(
      cont.map((r) => r.message),
      ['2026-11-24 10:00:00 ERROR failed', 'detail one\n  detail two', '2026-11-24 10:00:01 INFO ok'],
    );
    const both = parseAll('orphan\n  not joined: no start before it\nBEGIN x\n  joined\nplain\n', {
      format: 'plain',
      multiline: { start: '^BEGIN', continue: '^\\s' },
    }).records;
    assert.deepEqual(
      both.map((r) => r.message),
      ['orphan', '  not joined: no start before it', 'BEGIN x\n  joined', 'plain'],
    );
  });

  it('config errors name the key and the value', () => {
    assert.match(multilineProblem({ start: '([' }) ?? '', /^multiline\.start: "\(\[" is not a valid regular expression/);
    assert.match(multilineProblem({}) ?? '', /give `start`, `continue` or `preset`/);
    assert.match(multilineProblem({ preset: 'cobol' as 'java' }) ?? '', /multiline\.preset: expected auto, java, python, go or nodejs, got "cobol"/);
    assert.match(multilineProblem({ start: 'x', maxLines: 0 }) ?? '', /multiline\.maxLines: expected a positive number, got 0/);
    assert.equal(multilineProblem('java'), undefined);
    assert.equal(multilineProblem({ preset: 'go', flushTimeoutMs: 3000 }), undefined);
    assert.throws(() => makeParser({ multiline: '(' }), MultilineConfigError);
  });

  it('flush timeout: the last record of an idle stream is released, and until then it holds the checkpoint', () => {
    let now = NOW;
    const parser = makeParser({ multiline: { preset: 'java', flushTimeoutMs: 2000 }, now: () => now });
    const out: LogRecord[] = [];
    const buf = Buffer.from(asCri('java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)\n'));
    let start = 0;
    for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
      parser.push(buf, start, nl, 500 + start, out);
      start = nl + 1;
    }
    assert.equal(out.length, 0);
    assert.equal(parser.pendingOffset(), 500);
    parser.flushIdle(now, out); // the reader's check at the end of the file, right after the lines
    assert.equal(out.length, 0);
    now += 1999;
    parser.flushIdle(now, out);
    assert.equal(out.length, 0);
    now += 1;
    parser.flushIdle(now, out);
    assert.deepEqual(
      out.map((r) => [r.message, r.offset]),
      [['java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)', 500]],
    );
    assert.equal(parser.pendingOffset(), -1);
  });

  it('max lines and max bytes: the record is cut, the rest carries on as a new record; both flagged, nothing lost', () => {
    const trace = 'java.lang.Error: deep\n' + Array.from({ length: 7 }, (_, i) => `\tat f${i}(X.java:${i})`).join('\n') + '\nafter\n';
    const { records, parser } = parseAll(trace, { format: 'plain', multiline: { preset: 'java', maxLines: 3 } });
    assert.deepEqual(
      records.map((r) => r.message.split('\n').length),
      [3, 3, 2, 1],
    );
    assert.deepEqual(
      records.map((r) => (r.flags & RecordFlag.MULTILINE_TRUNCATED) !== 0),
      [true, true, true, false],
    );
    assert.equal(records.map((r) => r.message).join('\n') + '\n', trace);
    assert.equal(parser.counters.multilineTruncated, 2);
    const bytes = parseAll(trace, { format: 'plain', multiline: { preset: 'java', maxBytes: 40 } }).records;
    assert.ok(bytes.every((r) => Buffer.byteLength(r.message) <= 40));
    assert.equal(bytes.map((r) => r.message).join('\n') + '\n', trace);
  });

  it('pendingOffset never passes the first line of a record not yet handed out (every fixture, CRI pieces, both streams)', () => {
    const inputs: Array<[Buffer, Partial<FileParserOptions>]> = [
      [Buffer.from(asCri(fixture('java.log').toString(), 'stderr', 30) + asCri(fixture('nodejs.log').toString(), 'stdout', 17)), { multiline: 'java' }],
      [Buffer.from(asCri(fixture('python.log').toString(), 'stdout', 20)), { multiline: 'python' }],
      [Buffer.from(asCri(fixture('go-panic.log').toString(), 'stderr', 11)), { multiline: 'go' }],
      [Buffer.from(asCri(fixture('nodejs.log').toString(), 'stdout', 13)), { multiline: 'nodejs' }],
      [fixture('containerd-cri.log'), {}],
      [fixture('kubelet.log'), { format: 'glog' }],
      [fixture('docker-json.log'), { multiline: { start: '^\\S' } }],
    ];
    for (const [buf, options] of inputs) {
      const parser = makeParser(options);
      const out: LogRecord[] = [];
      const steps: Array<{ lineStart: number; pending: number; emitted: number }> = [];
      let start = 0;
      for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
        parser.push(buf, start, nl, start, out);
        steps.push({ lineStart: start, pending: parser.pendingOffset(), emitted: out.length });
        start = nl + 1;
      }
      parser.flushAll(out);
      assert.equal(parser.pendingOffset(), -1);
      for (const step of steps) {
        // the checkpoint the tailer would commit after this line
        const commit = step.pending >= 0 ? step.pending : step.lineStart + 1;
        for (const later of out.slice(step.emitted))
          assert.ok(
            later.offset >= commit || (step.pending < 0 && later.offset > step.lineStart),
            `record at ${later.offset} handed out after a checkpoint at ${commit}`,
          );
      }
      assert.equal(new Set(out.map((r) => r.offset)).size, out.length, 'one record per first offset');
    }
  });
});
