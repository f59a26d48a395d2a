import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { metadataFromIdentity } from '../event/metadata.js';
import { RecordFlag, type FileContext, type LogRecord } from '../event/record.js';
import { createFileParser, type FileParserOptions } from './file-parser.js';

const FIXTURES = new URL('../../../test/fixtures/', import.meta.url);
const file: FileContext = { path: '/var/log/x.log', pathJson: '"/var/log/x.log"', idPrefix: 'p-', meta: metadataFromIdentity({ nodeName: 'n1' }) };
const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

/** Feed text line by line the way the tailer does; returns records and the parser. */
function parse(text: string | Buffer, options: Partial<FileParserOptions> = {}, flush = true) {
  const parser = createFileParser({ format: 'auto', file, now: () => NOW, ...options });
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const out: LogRecord[] = [];
  let start = 0;
  for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
    parser.push(buf, start, nl, start, out);
    start = nl + 1;
  }
  if (flush) parser.flushAll(out);
  return { records: out, parser };
}

describe('CRI and docker json-file', () => {
  it('CRI: timestamp kept to the nanosecond, stream, offset, id; offsets converted to UTC', () => {
    const { records, parser } = parse('2026-11-24T10:00:00.123456789Z stdout F hello world\n2026-11-24T11:00:00.5+01:00 stderr F from a zone\n2026-11-24T10:00:01Z stdout F \n');
    assert.equal(parser.format, 'cri');
    assert.deepEqual(
      records.map((r) => [r.timestamp, r.stream, r.message, r.offset, r.id]),
      [
        ['2026-11-24T10:00:00.123456789Z', 'stdout', 'hello world', 0, 'p-0'],
        ['2026-11-24T10:00:00.5Z', 'stderr', 'from a zone', 52, 'p-52'],
        ['2026-11-24T10:00:01Z', 'stdout', '', 101, 'p-101'],
      ],
    );
  });

  it('CRI partial pieces are joined per stream, with the other stream interleaved', () => {
    const text = ['2026-11-24T10:00:00Z stdout P aaa', '2026-11-24T10:00:00Z stderr F err line', '2026-11-24T10:00:00Z stdout P bbb', '2026-11-24T10:00:00Z stdout F ccc'].join('\n') + '\n';
    const { records, parser } = parse(text, {}, false);
    assert.deepEqual(records.map((r) => [r.stream, r.message, r.offset]), [['stderr', 'err line', 34], ['stdout', 'aaabbbccc', 0]]);
    assert.equal(parser.pendingOffset(), -1);
    const held = parse('2026-11-24T10:00:00Z stdout F done\n2026-11-24T10:00:01Z stdout P part\n', {}, false);
    assert.equal(held.records.length, 1);
    assert.equal(held.parser.pendingOffset(), 35, 'the checkpoint may not pass the incomplete record');
  });

  it('docker json-file: pieces without a trailing newline are joined; escapes decoded', () => {
    const lines = [
      JSON.stringify({ log: 'first half, ', stream: 'stdout', time: '2026-11-24T10:00:00.000000001Z' }),
      JSON.stringify({ log: 'second half\n', stream: 'stdout', time: '2026-11-24T10:00:00.000000002Z' }),
      JSON.stringify({ log: 'tab\there "quoted" ✓\n', stream: 'stderr', time: '2026-11-24T10:00:01Z' }),
    ];
    const { records, parser } = parse(lines.join('\n') + '\n');
    assert.equal(parser.format, 'docker-json');
    assert.deepEqual(records.map((r) => [r.message, r.stream, r.timestamp]), [
      ['first half, second half', 'stdout', '2026-11-24T10:00:00.000000001Z'],
      ['tab\there "quoted" ✓', 'stderr', '2026-11-24T10:00:01Z'],
    ]);
  });

  it('bad bytes: invalid UTF-8 replaced and flagged, NUL removed and flagged, garbage shipped as-is and flagged', () => {
    const text = Buffer.concat([
      Buffer.from('2026-11-24T10:00:00Z stdout F bad '),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('\n2026-11-24T10:00:00Z stdout F nul\0byte\nnot a cri line at all\n'),
    ]);
    const { records, parser } = parse(text);
    assert.equal(records[0].message, 'bad \uFFFD(\uFFFD');
    assert.ok(records[0].flags & RecordFlag.INVALID_UTF8);
    assert.equal(records[1].message, 'nulbyte');
    assert.ok(records[1].flags & RecordFlag.NUL_REMOVED);
    assert.equal(records[2].message, 'not a cri line at all');
    assert.ok(records[2].flags & RecordFlag.UNPARSED);
    assert.equal(records[2].timestamp, new Date(NOW).toISOString());
    assert.equal(parser.counters.unparsed, 1);
    assert.equal(parser.counters.invalidUtf8, 1);
  });

  it('a 3 MiB record in 16 KiB pieces arrives once, cut at the limit on a character boundary, flagged', () => {
    const piece = 'é'.repeat(8192);
    let text = '';
    for (let i = 0; i < 192; i++) text += `2026-11-24T10:00:00Z stdout ${i === 191 ? 'F' : 'P'} ${piece}\n`;
    text += '2026-11-24T10:00:01Z stdout F next\n';
    const { records, parser } = parse(text, { maxRecordBytes: 1024 * 1024 });
    assert.equal(records.length, 2);
    assert.equal(Buffer.byteLength(records[0].message), 1024 * 1024);
    assert.ok(records[0].flags & RecordFlag.TRUNCATED);
    assert.equal(records[1].message, 'next');
    assert.equal(parser.counters.truncated, 1);
  });

  it('JSON messages become json.*, with level and message lifted; other messages stay as they are', () => {
    const { records } = parse('2026-11-24T10:00:00Z stdout F {"level":"WARN","msg":"slow","ms":812}\n2026-11-24T10:00:00Z stdout F {not json}\n2026-11-24T10:00:00Z stdout F plain\n');
    assert.deepEqual(records[0].json, { level: 'WARN', msg: 'slow', ms: 812 });
    assert.equal(records[0].level, 'warning');
    assert.equal(records[0].message, 'slow');
    assert.ok(records[1].flags & RecordFlag.JSON_ERROR);
    assert.equal(records[2].json, undefined);
    const logfmt = parse('2026-11-24T10:00:00Z stdout F level=error msg="disk full" device=sda\n', { message: 'logfmt' });
    assert.deepEqual(logfmt.records[0].json, { level: 'error', msg: 'disk full', device: 'sda' });
    assert.equal(logfmt.records[0].message, 'disk full');
  });
});

describe('component logs', () => {
  it('kubelet glog: level, timestamp, thread, origin, structured klog, continuation lines joined', () => {
    const { records } = parse(readFileSync(new URL('kubelet.log', FIXTURES)), { format: 'glog' });
    assert.equal(records.length, 5);
    const [sync, warn, error, started, fatal] = records;
    assert.equal(sync.level, 'info');
    assert.equal(sync.timestamp, '2026-11-24T09:15:02.123456000Z');
    assert.equal(sync.message, 'SyncLoop (PLEG): event for pod');
    assert.deepEqual(sync.extra, {
      log: { origin: { file: { name: 'kubelet.go', line: 2433 } } },
      process: { thread: { id: 2187 } },
      klog: { pod: 'shop/frontend-7d4b9c8f6d-x2x9z', event: '{"ID":"0f1e2d3c","Type":"ContainerStarted"}' },
    });
    assert.equal(warn.level, 'warning');
    assert.match(warn.message, /^k8s\.io\/client-go\/informers\/factory\.go:150: failed to list/);
    assert.equal(error.level, 'error');
    assert.equal(error.message, 'Error syncing pod, skipping');
    assert.equal((error.extra!.klog as Record<string, string>).err, 'failed to "StartContainer" for "web" with CrashLoopBackOff');
    assert.equal(started.message, 'Started kubelet\ngoroutine 1 [running]:\nmain.main()\n\t/workspace/cmd/kubelet/main.go:44 +0x1d');
    assert.equal(fatal.level, 'fatal');
    assert.deepEqual((fatal.extra!.log as any).origin, { file: { name: 'server.go', line: 269 } });
  });

  it('kube-apiserver: trace continuation lines belong to their record', () => {
    const { records } = parse(readFileSync(new URL('kube-apiserver.log', FIXTURES)), { format: 'glog' });
    assert.equal(records.length, 3);
    assert.match(records[2].message, /^Trace\[1473412562\]: "Update"[^\n]*\nTrace\[1473412562\]: ---"Write to database[^\n]*\nTrace\[1473412562\]: \[500.12ms\] \[500.12ms\] END$/);
    assert.equal(records[1].level, 'warning');
  });

  it('glog year: inferred, and a December line read in January belongs to last year; time zones', () => {
    const january = Date.UTC(2027, 0, 1, 0, 5);
    const { records } = parse('I1231 23:59:59.000001       1 a.go:1] last of the year\nI0101 00:00:01.000000       1 a.go:2] first of the next\n', { format: 'glog', now: () => january });
    assert.equal(records[0].timestamp, '2026-12-31T23:59:59.000001000Z');
    assert.equal(records[1].timestamp, '2027-01-01T00:00:01.000000000Z');
    const berlin = parse('I1124 10:00:00.000000       1 a.go:1] local time\n', { format: 'glog', timezone: 'Europe/Berlin' });
    assert.equal(berlin.records[0].timestamp, '2026-11-24T09:00:00.000000000Z');
  });

  it('docker daemon logrus lines, with offsets converted and plain lines kept', () => {
    const { records } = parse(readFileSync(new URL('docker.log', FIXTURES)), { format: 'logrus' });
    assert.deepEqual(records.map((r) => [r.timestamp, r.level, r.message]), [
      ['2026-11-24T09:30:00.123456789Z', 'info', 'Starting up'],
      ['2026-11-24T08:30:01.000000000Z', 'warning', 'Your kernel does not support cgroup memory limit'],
      ['2026-11-24T09:30:02.500000000Z', 'error', 'Handler for GET /v1.41/containers/abc/json returned error: No such container: abc'],
      [new Date(NOW).toISOString(), undefined, 'plain line without structure'],
    ]);
    assert.deepEqual(records[1].extra, { docker: { 'storage-driver': 'overlay2' } });
  });
});

describe('multiline', () => {
  it('a Java stack trace split across CRI partial lines arrives as one record', () => {
    const records = parse(readFileSync(new URL('java-cri.log', FIXTURES)), { multiline: 'java' }).records.sort((a, b) => a.offset - b.offset);
    assert.equal(records.length, 3);
    assert.equal(
      records[1].message,
      'java.lang.IllegalStateException: order 42 has no items\n\tat com.example.orders.OrderService.place(OrderService.java:87)\n\tat com.example.orders.OrderController.create(OrderController.java:42)\nCaused by: java.util.NoSuchElementException: cart is empty\n\tat java.base/java.util.ArrayList$Itr.next(ArrayList.java:970)\n\t... 12 more',
    );
    assert.equal(records[1].offset, 168, "a multiline record's offset is its first line's");
    assert.equal(records[2].stream, 'stdout');
  });

  it('Python tracebacks, Go panics, Node.js stack traces', () => {
    const python = parse(readFileSync(new URL('python.log', FIXTURES)), { format: 'plain', multiline: 'python' }).records.map((r) => r.message);
    assert.equal(python.length, 3);
    assert.match(python[1], /^Traceback \(most recent call last\):\n {2}File .*\n {4}total = .*\nTypeError: unsupported operand/);
    const go = parse(readFileSync(new URL('go-panic.log', FIXTURES)), { format: 'plain', multiline: 'go' }).records.map((r) => r.message);
    assert.deepEqual(go.length, 3);
    assert.match(go[1], /^panic: runtime error[\s\S]*goroutine 1 \[running\]:\nmain\.process\(\.\.\.\)\n\t\/app\/main\.go:18\nmain\.main\(\)\n\t\/app\/main\.go:8 \+0x1d$/);
    assert.equal(go[2], 'exit status 2');
    const node = parse(readFileSync(new URL('node.log', FIXTURES)), { format: 'plain', multiline: 'nodejs' }).records.map((r) => r.message);
    assert.equal(node.length, 3);
    assert.equal(node[1].split('\n').length, 4);
  });

  it('custom start and continue expressions, and the line bound', () => {
    const start = parse('[2026] a\n more a\n[2026] b\n', { format: 'plain', multiline: { start: '^\\[' } }).records.map((r) => r.message);
    assert.deepEqual(start, ['[2026] a\n more a', '[2026] b']);
    const cont = parse('a\n+ 1\n+ 2\nb\n', { format: 'plain', multiline: { continue: '^\\+' } }).records.map((r) => r.message);
    assert.deepEqual(cont, ['a\n+ 1\n+ 2', 'b']);
    const bounded = parse('a\n x\n y\n z\n', { format: 'plain', multiline: { start: '^\\S', maxLines: 2 } }).records;
    assert.equal(bounded[0].message, 'a\n x');
    assert.ok(bounded[0].flags & RecordFlag.MULTILINE_TRUNCATED);
  });

  it('the flush timeout releases the last record of an idle stream, and the checkpoint waits for it', () => {
    let now = NOW;
    const { records, parser } = parse('2026-11-24T10:00:00Z stdout F Exception in thread "main" java.lang.Error\n2026-11-24T10:00:00Z stdout F \tat a.b(C.java:1)\n', { multiline: 'java', now: () => now }, false);
    assert.equal(records.length, 0);
    assert.equal(parser.pendingOffset(), 0);
    const out: LogRecord[] = [];
    parser.flushIdle(now + 500, out);
    assert.equal(out.length, 0, 'not before the timeout');
    now += 1000;
    parser.flushIdle(now, out);
    assert.equal(out.length, 1);
    assert.equal(out[0].message, 'Exception in thread "main" java.lang.Error\n\tat a.b(C.java:1)');
    assert.equal(parser.pendingOffset(), -1);
  });
});
