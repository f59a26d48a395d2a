import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UsageError } from '../cli/errors.js';
import type { FileContext } from '../event/record.js';
import { LocalStoreSink } from '../store/sink.js';
import { AckCounter, fileContext, makeBatch, type RecordSpec } from '../../test/helpers/records.js';
import { Follower } from './follow.js';
import { LocalStoreBackend } from './local.js';
import { buildQuery, type FoundRecord, type LogQuery, type QueryFlags } from './query.js';

const BASE = Date.parse('2026-11-24T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

async function fill(dataDir: string, batches: Array<[FileContext, RecordSpec[]]>): Promise<void> {
  const sink = new LocalStoreSink({ dataDir, retentionDays: 100_000, maxBytes: 1e12, worker: false });
  await sink.start();
  const counter = new AckCounter();
  for (const [file, specs] of batches) {
    sink.write(makeBatch(counter, file, specs));
    await sink.flush(); // one transaction per batch: arrival order differs from time order
  }
  await sink.shutdown();
}

describe('local store queries', () => {
  let dir: string;
  let backend: LocalStoreBackend;
  /** every record, for brute-force expectations */
  const all: Array<{
    id: string;
    ts: number;
    message: string;
    ns: string;
    pod: string;
    container: string;
    node: string;
    labels: Record<string, string>;
    path: string;
    level: string;
    stream: string;
  }> = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lf-query-'));
    const files: FileContext[] = [];
    for (let p = 0; p < 30; p++) {
      const ns = ['shop', 'billing', 'kube-system'][p % 3];
      const pod = `${['web', 'api', 'db'][p % 3]}-${p}`;
      const labels: Record<string, string> = { app: pod.split('-')[0], tier: p % 2 ? 'front' : 'back' };
      if (p % 5 === 0) labels['app.kubernetes.io/version'] = `v${p % 3}`;
      const container = p % 4 === 0 ? 'sidecar' : 'main';
      const node = p < 20 ? 'node-a' : 'node-b';
      files.push(
        fileContext(
          `/var/log/containers/${pod}_${ns}_${container}-${p}.log`,
          { namespace: ns, podName: pod, containerName: container, nodeName: node, labels },
          `${pod}-`,
        ),
      );
      const specs: RecordSpec[] = [];
      for (let i = 0; i < 40; i++) {
        const ts = BASE + i * 1000 + p;
        const message = [`request ${i} served`, `payment declined for order_${i}`, `Connection RESET by peer`, `café ouvert ${i}`, `GET /healthz 200`][
          (i + p) % 5
        ];
        const level = ['info', 'error', 'warning', 'info'][(i * 3 + p) % 4];
        const stream = i % 3 === 0 ? 'stderr' : 'stdout';
        specs.push({ offset: i * 100, timestamp: iso(ts), message, level, stream });
        all.push({ id: `${pod}-${i * 100}`, ts, message, ns, pod, container, node, labels, path: files[p].path, level, stream });
      }
    }
    // Newest halves first, then the older halves: a backfill, as after an agent restart.
    await fill(
      dir,
      files.map((f, p) => [f, all.filter((r) => r.pod === files[p].meta.fields.podName && r.ts >= BASE + 20_000).map(toSpec)]),
    );
    await fill(
      dir,
      files.map((f, p) => [f, all.filter((r) => r.pod === files[p].meta.fields.podName && r.ts < BASE + 20_000).map(toSpec)]),
    );
    backend = new LocalStoreBackend(dir);
  });
  after(async () => {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function toSpec(r: (typeof all)[number]): RecordSpec {
    return { offset: Number(r.id.split('-').at(-1)), timestamp: iso(r.ts), message: r.message, level: r.level, stream: r.stream as 'stdout' | 'stderr' };
  }

  async function ids(text: string | undefined, flags: QueryFlags): Promise<string[]> {
    return (await backend.search(buildQuery(text, { limit: '100000', ...flags }))).map((r) => r.id);
  }

  function expected(filter: (r: (typeof all)[number]) => boolean, newest = true): string[] {
    return all
      .filter(filter)
      .sort((a, b) => (newest ? b.ts - a.ts : a.ts - b.ts))
      .map((r) => r.id);
  }

  it('full text: words, phrases, prefixes, exclusions, case, accents and snake_case', async () => {
    assert.deepEqual(
      await ids('"payment declined"', {}),
      expected((r) => r.message.startsWith('payment declined')),
    );
    assert.deepEqual(await ids('"declined payment"', {}), []);
    assert.deepEqual(
      await ids('connection reset', {}),
      expected((r) => r.message.startsWith('Connection')),
    );
    assert.deepEqual(
      await ids('pay*', {}),
      expected((r) => r.message.startsWith('payment')),
    );
    assert.deepEqual(
      await ids('order_7', {}),
      expected((r) => r.message.endsWith('order_7')),
    );
    assert.deepEqual(await ids('order', {}), [], 'order_7 is one word, as in Elasticsearch');
    assert.deepEqual(
      await ids('café', {}),
      expected((r) => r.message.startsWith('café')),
    );
    assert.deepEqual(await ids('cafe', {}), [], 'accents are kept, as in Elasticsearch');
    assert.deepEqual(await ids('request -served', {}), []);
    assert.deepEqual(
      await ids('-healthz -café', { namespace: 'shop' }),
      expected((r) => r.ns === 'shop' && !r.message.includes('healthz') && !r.message.startsWith('café')),
    );
    assert.deepEqual(await ids('-"payment declined" declined', {}), []);
    assert.deepEqual(
      await ids('message:"GET /healthz"', {}),
      expected((r) => r.message.includes('healthz')),
    );
  });

  it('newest first means by time, also for records stored out of order (backfill)', async () => {
    assert.deepEqual(
      await ids(undefined, {}),
      expected(() => true),
    );
    assert.deepEqual(
      await ids(undefined, { oldestFirst: true }),
      expected(() => true, false),
    );
    assert.deepEqual(await ids('request', { limit: '7' }), expected((r) => r.message.startsWith('request')).slice(0, 7));
    assert.deepEqual(await ids(undefined, { limit: '5', namespace: 'billing' }), expected((r) => r.ns === 'billing').slice(0, 5));
  });

  it('filters on pods, labels, node, file and fields match a brute-force filter', async () => {
    const cases: Array<[string | undefined, QueryFlags, (r: (typeof all)[number]) => boolean]> = [
      [undefined, { pod: 'web-3' }, (r) => r.pod === 'web-3'],
      [undefined, { pod: 'web-*' }, (r) => r.pod.startsWith('web-')],
      [undefined, { pod: 'api-2?' }, (r) => /^api-2.$/.test(r.pod)],
      [undefined, { container: 'sidecar', level: 'error' }, (r) => r.container === 'sidecar' && r.level === 'error'],
      [undefined, { stream: 'stderr', namespace: 'shop' }, (r) => r.stream === 'stderr' && r.ns === 'shop'],
      [undefined, { stream: 'stdout', level: 'info' }, (r) => r.stream === 'stdout' && r.level === 'info'],
      [undefined, { stream: 'stderr' }, (r) => r.stream === 'stderr'],
      [undefined, { level: 'warning' }, (r) => r.level === 'warning'],
      [undefined, { node: 'node-b' }, (r) => r.node === 'node-b'],
      [undefined, { selector: 'app=db,tier!=front' }, (r) => r.labels.app === 'db' && r.labels.tier !== 'front'],
      [undefined, { selector: 'app in (web, api),tier notin (back)' }, (r) => ['web', 'api'].includes(r.labels.app) && r.labels.tier !== 'back'],
      [undefined, { selector: 'app.kubernetes.io/version' }, (r) => 'app.kubernetes.io/version' in r.labels],
      [undefined, { selector: 'app.kubernetes.io/version=v1' }, (r) => r.labels['app.kubernetes.io/version'] === 'v1'],
      [undefined, { selector: '!app.kubernetes.io/version', level: 'warning' }, (r) => !('app.kubernetes.io/version' in r.labels) && r.level === 'warning'],
      [undefined, { selector: 'app=nothing' }, () => false],
      ['kubernetes.labels.tier:front', {}, (r) => r.labels.tier === 'front'],
      ['-node:node-a', {}, (r) => r.node !== 'node-a'],
      ['file:/var/log/containers/db-2_kube-system_main-2.log', {}, (r) => r.pod === 'db-2'],
      ['level:error -namespace:shop', {}, (r) => r.level === 'error' && r.ns !== 'shop'],
      ['declined', { selector: 'tier=front', pod: 'api-*' }, (r) => r.message.includes('declined') && r.labels.tier === 'front' && r.pod.startsWith('api-')],
      [
        undefined,
        { from: iso(BASE + 10_000), to: iso(BASE + 12_000), selector: 'app=web' },
        (r) => r.ts >= BASE + 10_000 && r.ts < BASE + 12_000 && r.labels.app === 'web',
      ],
    ];
    for (const [text, flags, filter] of cases) {
      assert.deepEqual(await ids(text, flags), expected(filter), `${text ?? ''} ${JSON.stringify(flags)}`);
      assert.deepEqual(
        await ids(text, { ...flags, oldestFirst: true, limit: '3' }),
        expected(filter, false).slice(0, 3),
        `oldest 3: ${text ?? ''} ${JSON.stringify(flags)}`,
      );
    }
  });

  it('pages with a cursor walk every record once, whichever plan the query takes', async () => {
    for (const flags of [{}, { namespace: 'billing' }, { selector: 'tier=front' }, { pod: 'db-*' }] as QueryFlags[]) {
      for (const text of [undefined, 'payment']) {
        const seen: string[] = [];
        let query: LogQuery = buildQuery(text, { ...flags, limit: '17' });
        for (;;) {
          const page = await backend.search(query);
          seen.push(...page.map((r) => r.id));
          if (page.length < 17) break;
          query = { ...query, after: page[page.length - 1].cursor };
        }
        assert.deepEqual(seen, await ids(text, flags), `${text} ${JSON.stringify(flags)}`);
      }
    }
  });

  it('walks indexes in time order instead of sorting', () => {
    const plan = backend.explain(buildQuery(undefined, { namespace: 'shop', since: '1h' }, BASE));
    assert.match(plan, /USING (COVERING )?INDEX logs_namespace/);
    assert.doesNotMatch(plan, /TEMP B-TREE/);
    const text = backend.explain(buildQuery('payment', { namespace: 'shop' }));
    assert.match(text, /VIRTUAL TABLE INDEX/);
    assert.doesNotMatch(text, /TEMP B-TREE/);
    assert.match(backend.explain(buildQuery(undefined, { level: 'error' })), /INDEX logs_level/);
    assert.match(backend.explain(buildQuery(undefined, { stream: 'stderr' })), /INDEX logs_stream/);
    // warn is stored as warn or warning: one walk per value, merged, not a sort of every warning
    for (const warn of [buildQuery(undefined, { level: 'WARN' }), buildQuery('level:warning', {})]) {
      assert.match(backend.explain(warn), /INDEX logs_level/);
      assert.doesNotMatch(backend.explain(warn), /TEMP B-TREE/);
    }
    assert.doesNotMatch(backend.explain(buildQuery('(payment OR reset) -declined level:error', {})), /TEMP B-TREE/);
    assert.doesNotMatch(backend.explain(buildQuery('payment OR level:error', { namespace: 'shop' })), /TEMP B-TREE/);
    const labels = backend.explain(buildQuery(undefined, { selector: 'app=db,tier=back' }));
    assert.match(labels, /INDEX logs_pod/);
    assert.doesNotMatch(labels, /TEMP B-TREE FOR ORDER BY/);
  });

  it('FTS5 syntax in the query is plain words; upper-case OR / NOT / AND are the query language', async () => {
    assert.deepEqual(await ids('peer^ NEAR/2 pay** :x', {}), []);
    assert.deepEqual(await ids('by peer or', {}), [], 'lower-case or is a word');
    assert.deepEqual(
      await ids('by peer', {}),
      expected((r) => r.message.startsWith('Connection')),
    );
    assert.deepEqual(
      await ids('by AND peer', {}),
      expected((r) => r.message.startsWith('Connection')),
    );
    assert.throws(
      () => buildQuery('peer NOT', {}),
      (e: unknown) => e instanceof UsageError && /NOT at position 6 needs something after it/.test(e.message),
    );
    assert.throws(
      () => buildQuery(': ^', {}),
      (e: unknown) => e instanceof UsageError && /":" at position 1 has no letters or digits/.test(e.message),
    );
  });

  it('OR, NOT, parentheses, patterns on keyword fields and case match a brute-force filter', async () => {
    const cases: Array<[string, QueryFlags, (r: (typeof all)[number]) => boolean]> = [
      ['payment OR café', {}, (r) => r.message.startsWith('payment') || r.message.startsWith('café')],
      ['(payment OR café) -ouvert', {}, (r) => r.message.startsWith('payment')],
      ['NOT (payment OR café OR request)', { namespace: 'shop' }, (r) => r.ns === 'shop' && !/^(payment|café|request)/.test(r.message)],
      ['healthz OR level:error', {}, (r) => r.message.includes('healthz') || r.level === 'error'],
      ['(healthz OR level:error) -namespace:shop', {}, (r) => (r.message.includes('healthz') || r.level === 'error') && r.ns !== 'shop'],
      ['NOT (level:info OR stream:stderr)', {}, (r) => r.level !== 'info' && r.stream !== 'stderr'],
      ['pod:web-1* declined', {}, (r) => r.pod.startsWith('web-1') && r.message.includes('declined')],
      ['pod:api-?', {}, (r) => /^api-.$/.test(r.pod)],
      ['-pod:db-* -pod:web-*', {}, (r) => r.pod.startsWith('api-')],
      ['namespace:Shop level:ERROR', {}, (r) => r.ns === 'shop' && r.level === 'error'],
      ['level:WARN', {}, (r) => r.level === 'warning'],
      ['level:warn OR kubernetes.labels.app:db*', {}, (r) => r.level === 'warning' || r.labels.app === 'db'],
      ['node:node-b OR (file:*/web-3_* connection)', {}, (r) => r.node === 'node-b' || (r.pod === 'web-3' && r.message.startsWith('Connection'))],
      [
        '(reset OR "payment declined") AND NOT (kubernetes.labels.tier:front OR order_3)',
        {},
        (r) => (r.message.startsWith('Connection') || r.message.startsWith('payment declined')) && r.labels.tier !== 'front' && !r.message.endsWith('order_3'),
      ],
    ];
    for (const [text, flags, filter] of cases) {
      assert.deepEqual(await ids(text, flags), expected(filter), text);
      assert.deepEqual(await ids(text, { ...flags, oldestFirst: true, limit: '3' }), expected(filter, false).slice(0, 3), `oldest 3: ${text}`);
      const count = await backend.count(buildQuery(text, flags), 100_000);
      assert.deepEqual(count, { count: expected(filter).length, exact: true }, `count: ${text}`);
    }
    assert.deepEqual(await backend.count(buildQuery(undefined, {}), 50), { count: 50, exact: false });
  });
});

describe('following', () => {
  it('reports late records once, and nothing twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-follow-'));
    const a = fileContext('/var/log/containers/a_ns_c.log', { namespace: 'ns', podName: 'a', containerName: 'c' }, 'a-');
    const b = fileContext('/var/log/containers/b_ns_c.log', { namespace: 'ns', podName: 'b', containerName: 'c' }, 'b-');
    const now = Date.now();
    const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 100_000, maxBytes: 1e12, worker: false });
    await sink.start();
    const counter = new AckCounter();
    const write = async (file: FileContext, offset: number, ms: number, message: string) => {
      sink.write(makeBatch(counter, file, [{ offset, timestamp: iso(ms), message }]));
      await sink.flush();
    };
    try {
      await write(a, 0, now - 60_000, 'old');
      await write(a, 1, now - 1000, 'printed');
      const backend = new LocalStoreBackend(dir);
      const query = buildQuery(undefined, { namespace: 'ns', limit: '1' });
      const printed: FoundRecord[] = await backend.search(query);
      assert.deepEqual(
        printed.map((r) => r.doc.message),
        ['printed'],
      );
      const follower = new Follower(backend, query, { printed });
      await follower.prime();
      assert.deepEqual(await follower.poll(), []);
      await write(a, 2, now, 'new');
      await write(b, 0, now - 2000, 'late, from another pod');
      await write(b, 1, now - 3_600_000, 'much older: not new');
      const fresh = await follower.poll();
      assert.deepEqual(fresh.map((r) => r.doc.message).sort(), ['late, from another pod', 'new']);
      assert.deepEqual(await follower.poll(), [], 'each record once');
      await write(a, 3, now + 10, 'newer still');
      assert.deepEqual(
        (await follower.poll()).map((r) => r.doc.message),
        ['newer still'],
      );

      const stop = new AbortController();
      const batches: string[][] = [];
      const running = new Follower(backend, query, { printed: [], intervalMs: 20, signal: stop.signal }).run((records) =>
        batches.push(records.map((r) => r.doc.message)),
      );
      await new Promise((r) => setTimeout(r, 60));
      await write(a, 4, Date.now(), 'live');
      await new Promise((r) => setTimeout(r, 120));
      stop.abort();
      await running;
      assert.deepEqual(batches, [['live']], 'run() reports what arrives after it started, nothing from before');
      await backend.close();
    } finally {
      await sink.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
