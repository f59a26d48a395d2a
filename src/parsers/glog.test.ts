import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture, lineOffset, makeParser, NOW, parseAll } from '../../test/fixtures/feed.js';
import { ParserConfigError, timezoneProblem } from './file-parser.js';
import { parseGlogLine, parseKlogStructured } from './glog.js';

function glog(text: string, now: number, timezone?: string) {
  return parseAll(text, { format: 'glog', now: () => now, ...(timezone ? { timezone } : {}) }).records;
}

describe('glog / klog', () => {
  it('kubelet fixture: level, timestamp, thread, origin, structured klog, multi-line values, continuation lines', () => {
    const buf = fixture('kubelet.log');
    const { records, parser } = parseAll(buf, { format: 'glog', message: undefined });
    assert.equal(parser.format, 'glog');
    const origin = (name: string, line: number) => ({ log: { origin: { file: { name, line } } }, process: { thread: { id: 2187 } } });
    assert.deepEqual(
      records.map((r) => ({ offset: r.offset, timestamp: r.timestamp, level: r.level, message: r.message, extra: r.extra, stream: r.stream })),
      [
        {
          offset: 0,
          timestamp: '2026-11-24T09:15:02.123456Z',
          level: 'info',
          message: 'SyncLoop (PLEG): event for pod',
          extra: {
            ...origin('kubelet.go', 2433),
            klog: { pod: 'shop/frontend-7d4b9c8f6d-x2x9z', event: '{"ID":"0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b","Type":"ContainerStarted","Data":"4b3c2d1e"}' },
          },
          stream: undefined,
        },
        {
          offset: lineOffset(buf, 'W1124'),
          timestamp: '2026-11-24T09:15:03.000001Z',
          level: 'warn',
          message:
            'k8s.io/client-go/informers/factory.go:150: failed to list *v1.Service: Get "https://10.96.0.1:443/api/v1/services?limit=500": dial tcp 10.96.0.1:443: connect: connection refused',
          extra: origin('reflector.go', 535),
          stream: undefined,
        },
        {
          offset: lineOffset(buf, 'E1124'),
          timestamp: '2026-11-24T09:15:04.500000Z',
          level: 'error',
          message: 'Error syncing pod, skipping',
          extra: {
            ...origin('pod_workers.go', 1300),
            klog: {
              err: 'failed to "StartContainer" for "web" with CrashLoopBackOff: "back-off 5m0s restarting failed container=web pod=web-0_shop(5b4a3c2d)"',
              pod: 'shop/web-0',
              podUID: '5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d',
            },
          },
          stream: undefined,
        },
        {
          offset: lineOffset(buf, 'I1124 09:15:05'),
          timestamp: '2026-11-24T09:15:05.750000Z',
          level: 'info',
          message: 'Message for Container of pod',
          extra: {
            ...origin('kuberuntime_manager.go', 1046),
            klog: {
              containerName: 'init',
              containerStatusID: '{"Type":"containerd","ID":"8f7e6d5c"}',
              pod: 'shop/web-0',
              containerMessage: 'line one of the termination message\n  line two, indented',
            },
          },
          stream: undefined,
        },
        {
          offset: lineOffset(buf, 'I1124 09:15:06'),
          timestamp: '2026-11-24T09:15:06.000000Z',
          level: 'info',
          message: 'Started kubelet',
          extra: origin('server.go', 1246),
          stream: undefined,
        },
        {
          offset: lineOffset(buf, 'F1124'),
          timestamp: '2026-11-24T09:15:07.000000Z',
          level: 'fatal',
          message:
            'failed to run Kubelet: unable to load bootstrap kubeconfig: stat /etc/kubernetes/bootstrap-kubelet.conf: no such file or directory\n' +
            'goroutine 1 [running]:\nk8s.io/klog/v2.stacks(0x1)\n\t/workspace/vendor/k8s.io/klog/v2/klog.go:1026 +0x8a',
          extra: origin('server.go', 269),
          stream: undefined,
        },
      ],
    );
    assert.equal(parser.counters.lines, 12);
    assert.equal(parser.counters.records, 6);
    assert.equal(parser.counters.multilineJoined, 6);
    assert.ok(records.every((r) => r.json === undefined && r.flags === 0));
  });

  it('kube-apiserver fixture: trace continuation lines belong to their record; format detected', () => {
    const buf = fixture('kube-apiserver.log');
    const { records, parser } = parseAll(buf);
    assert.equal(parser.format, 'glog', 'auto-detected from the first line');
    assert.deepEqual(
      records.map((r) => [r.level, r.offset, r.message.split('\n').length]),
      [
        ['info', 0, 1],
        ['warn', lineOffset(buf, 'W1124'), 1],
        ['info', lineOffset(buf, 'I1124 09:20:02'), 3],
        ['error', lineOffset(buf, 'E1124'), 1],
      ],
    );
    assert.ok(records[2].message.endsWith('\nTrace[1473412562]: [500.12ms] [500.12ms] END'));
    assert.equal(
      records[3].message,
      'apiserver received an error that is not an metav1.Status: &errors.errorString{s:"http: Handler timeout"}: http: Handler timeout',
    );
    assert.equal(records[3].extra?.klog, undefined);
  });

  it('the pending continuation group holds the checkpoint and is released by the flush timeout', () => {
    let now = NOW;
    const parser = makeParser({ format: 'glog', now: () => now });
    const out = [] as Parameters<typeof parser.push>[4];
    const buf = Buffer.from('I1124 10:00:00.000000       1 a.go:1] first\nI1124 10:00:01.000000       1 a.go:2] second\n  continued\n');
    let start = 0;
    for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
      parser.push(buf, start, nl, start, out);
      start = nl + 1;
    }
    assert.deepEqual(
      out.map((r) => r.message),
      ['first'],
    );
    assert.equal(parser.pendingOffset(), lineOffset(buf, 'I1124 10:00:01'));
    parser.flushIdle(now + 999, out);
    assert.equal(out.length, 1);
    now += 1000;
    parser.flushIdle(now, out);
    assert.deepEqual(
      out.map((r) => r.message),
      ['first', 'second\n  continued'],
    );
    assert.equal(parser.pendingOffset(), -1);
  });

  it('year: inferred from the clock, rolling over at New Year both ways', () => {
    const jan1 = Date.UTC(2027, 0, 1, 0, 0, 30);
    assert.deepEqual(
      glog('I1231 23:59:59.000001    1 a.go:1] last of the year\nI0101 00:00:10.5    1 a.go:2] first of the next\n', jan1).map((r) => r.timestamp),
      ['2026-12-31T23:59:59.000001Z', '2027-01-01T00:00:10.5Z'],
    );
    // read on 31 December by a node whose clock is a little behind the writer's: next year's line
    const dec31 = Date.UTC(2026, 11, 31, 23, 59, 50);
    assert.deepEqual(
      glog('I0101 00:00:05.000000    1 a.go:1] x\n', dec31).map((r) => r.timestamp),
      ['2027-01-01T00:00:05.000000Z'],
    );
    // a backlog from December read in June: last year
    assert.deepEqual(
      glog('E1215 08:00:00.000000    1 a.go:1] x\n', Date.UTC(2027, 5, 1)).map((r) => r.timestamp),
      ['2026-12-15T08:00:00.000000Z'],
    );
    // 29 February: the latest leap year that is not in the future
    assert.deepEqual(
      glog('I0229 12:00:00.000000    1 a.go:1] x\n', Date.UTC(2029, 2, 1)).map((r) => r.timestamp),
      ['2028-02-29T12:00:00.000000Z'],
    );
  });

  it('time zone: wall-clock times converted to UTC, daylight saving time included; bad names refused', () => {
    const winter = glog('I1124 10:00:00.000000    1 a.go:1] x\n', NOW, 'Europe/Berlin');
    assert.equal(winter[0].timestamp, '2026-11-24T09:00:00.000000Z');
    const summer = glog('I0701 10:00:00.000000    1 a.go:1] x\n', Date.UTC(2026, 6, 2), 'Europe/Berlin');
    assert.equal(summer[0].timestamp, '2026-07-01T08:00:00.000000Z');
    const newYork = glog('I1231 22:30:00.000000    1 a.go:1] x\n', Date.UTC(2027, 0, 1, 4), 'America/New_York');
    assert.equal(newYork[0].timestamp, '2027-01-01T03:30:00.000000Z', 'New Year in UTC, still the old year on the node');
    const kolkata = glog('I1124 10:00:00.000000    1 a.go:1] x\n', NOW, 'Asia/Kolkata');
    assert.equal(kolkata[0].timestamp, '2026-11-24T04:30:00.000000Z');
    assert.match(timezoneProblem('Mars/Olympus_Mons') ?? '', /timezone: "Mars\/Olympus_Mons" is not a time zone name/);
    assert.equal(timezoneProblem('Europe/Berlin'), undefined);
    assert.throws(() => makeParser({ format: 'glog', timezone: 'Mars/Olympus_Mons' }), ParserConfigError);
  });

  it('lines before the first header: a record of their own, read time; later header-less lines join', () => {
    const records = glog('  orphan continuation\nmore orphan\nI1124 10:00:00.000000    1 a.go:1] x\n', NOW);
    assert.deepEqual(
      records.map((r) => [r.message, r.timestamp, r.level]),
      [
        ['  orphan continuation\nmore orphan', new Date(NOW).toISOString(), undefined],
        ['x', '2026-11-24T10:00:00.000000Z', 'info'],
      ],
    );
  });

  it('structured klog values: quoted, bare, structs with spaces, multi-line, dotted keys; anything else stays a message', () => {
    assert.deepEqual(
      parseKlogStructured(
        '"Starting" version="v1.31.2" count=3 ok=true obj={Name:web Namespace:shop} list=[a b] ptr=&{x:1} err=<nil> app.kubernetes.io/name="web"',
      ),
      {
        text: 'Starting',
        fields: {
          version: 'v1.31.2',
          count: '3',
          ok: 'true',
          obj: '{Name:web Namespace:shop}',
          list: '[a b]',
          ptr: '&{x:1}',
          err: '<nil>',
          'app_kubernetes_io/name': 'web',
        },
      },
    );
    assert.deepEqual(parseKlogStructured('"only a message"'), { text: 'only a message', fields: undefined });
    assert.deepEqual(parseKlogStructured('"escaped \\"quote\\"" k="a\\nb"'), { text: 'escaped "quote"', fields: { k: 'a\nb' } });
    assert.equal(parseKlogStructured('not quoted k=v'), undefined);
    assert.equal(parseKlogStructured('"quoted" then words'), undefined);
    assert.equal(parseKlogStructured('"quoted"glued k=v'), undefined);
    assert.equal(parseKlogStructured('"unterminated'), undefined);
    assert.equal(parseKlogStructured('"m" k={unbalanced'), undefined);
  });

  it('parseGlogLine (journald entries): one line, all fields', () => {
    assert.deepEqual(parseGlogLine('E1124 09:15:04.500000    2187 pod_workers.go:1300] "Error syncing pod" pod="shop/web-0"', 'UTC', NOW), {
      timestamp: '2026-11-24T09:15:04.500000Z',
      level: 'error',
      message: 'Error syncing pod',
      threadId: 2187,
      originFile: 'pod_workers.go',
      originLine: 1300,
      fields: { pod: 'shop/web-0' },
    });
    assert.equal(parseGlogLine('Started Kubernetes kubelet.', 'UTC', NOW), undefined);
    assert.equal(parseGlogLine('I1324 09:15:04.500000    1 a.go:1] month 13', 'UTC', NOW), undefined);
  });
});
