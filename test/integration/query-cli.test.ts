/**
 * `logferry search` and `logferry tail` as a user runs them: the real executable against a store the test
 * filled (and the real Elasticsearch when available): output formats, exit codes, the default data dir,
 * following new records.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { resolveElasticsearchConfig } from '../../src/sinks/elasticsearch/config.js';
import { ElasticsearchSink } from '../../src/sinks/elasticsearch/sink.js';
import { LocalStoreSink } from '../../src/store/sink.js';
import { deleteIndices, refresh, sharedElasticsearch } from '../helpers/elasticsearch.js';
import { AckCounter, fileContext, makeBatch } from '../helpers/records.js';
import { queryFixture } from '../helpers/query-fixture.js';

const BIN = fileURLToPath(new URL('../../../bin/logferry.js', import.meta.url));

/** The environment without anything that would point the commands elsewhere. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(ELASTICSEARCH_|FLUENT_ELASTICSEARCH_|KUBERNETES_SERVICE_|LOGFERRY_|NO_COLOR)/.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

function run(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: options.cwd, env: cleanEnv(options.env), encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('logferry search / tail', () => {
  let cwd: string;
  let dataDir: string;
  const index = `qcli${process.pid}`;

  before(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'logferry-cli-'));
    // The default data dir outside a cluster: ./logferry-data
    dataDir = join(cwd, 'logferry-data');
    const sink = new LocalStoreSink({ dataDir, retentionDays: 100_000, maxBytes: 1e12 });
    await sink.start();
    const counter = new AckCounter();
    for (const f of queryFixture('c')) sink.write(makeBatch(counter, f.file, f.records));
    await sink.shutdown();
  });
  after(async () => {
    rmSync(cwd, { recursive: true, force: true });
    if (process.env.LOGFERRY_TEST_ES_URL) await deleteIndices(process.env.LOGFERRY_TEST_ES_URL, `${index}-*`);
  });

  it('prints kubectl-style lines, oldest at the top, without colour when not on a terminal', () => {
    const { code, stdout, stderr } = run(['search', 'connection', '--limit', '5'], { cwd });
    assert.equal(code, 0, stderr);
    assert.equal(
      stdout,
      [
        'shop/web-1/nginx 2026-11-24T10:00:09.000000009Z ERROR upstream connection reset by peer',
        'billing/api-7/api 2026-11-24T10:00:10.000000010Z INFO connection pool resized to 20',
        '',
      ].join('\n'),
    );
    assert.doesNotMatch(stdout, /\x1b\[/);
  });

  it('--output json prints one document per line with its _id; filters combine', () => {
    const { code, stdout } = run(['search', '--output', 'json', '-n', 'billing', '-l', 'app=api', '--oldest-first', '--data-dir', dataDir]);
    assert.equal(code, 0);
    const docs = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      docs.map((d) => d._id),
      ['capi-0', 'capi-100', 'capi-200'],
    );
    assert.equal(docs[1].json.user.id, 'u2');
    assert.equal(docs[1].kubernetes.labels.tier, 'backend');
    assert.equal(docs[1].log.file.path, '/var/log/containers/api-7_billing_api.log');
  });

  it('finds the store through LOGFERRY_DATA_DIR too', () => {
    const { code, stdout } = run(['search', '--limit', '1'], { cwd: tmpdir(), env: { LOGFERRY_DATA_DIR: dataDir } });
    assert.equal(code, 0);
    assert.match(stdout, /billing\/api-7\/api .* connection pool resized to 20\n$/);
  });

  it('several words are one query; exclusions that look like options are exclusions (-level:info, NOT, --)', () => {
    const messages = (args: string[]) => {
      const { code, stdout, stderr } = run(['search', ...args, '--oldest-first'], { cwd });
      assert.equal(code, 0, `${args.join(' ')}: ${stderr}`);
      assert.equal(stderr, '', 'nothing on stderr when stdout is not a terminal');
      return stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' ').slice(3).join(' '));
    };
    assert.deepEqual(messages(['payment', 'declined']), ['payment declined order=18 card expired']);
    assert.deepEqual(messages(['payment', '-declined']), ['payment accepted order=17']);
    assert.deepEqual(messages(['-level:info', '-n', 'billing']), [
      'could not serialize access due to concurrent update',
      'payment declined order=18 card expired',
    ]);
    assert.deepEqual(messages(['NOT', 'level:info', '-n', 'billing']), [
      'could not serialize access due to concurrent update',
      'payment declined order=18 card expired',
    ]);
    assert.deepEqual(messages(['-n', 'billing', '--', '-level:info', '-connection']), [
      'could not serialize access due to concurrent update',
      'payment declined order=18 card expired',
    ]);
    assert.deepEqual(messages(['payment OR reset', '-namespace:shop']), ['payment accepted order=17', 'payment declined order=18 card expired']);
    assert.deepEqual(messages(['pod:API-*', 'level:WARNING']), ['payment declined order=18 card expired']);
    const ambiguous = run(['search', 'payment', '-connection'], { cwd });
    assert.equal(ambiguous.code, 2);
    assert.equal(
      ambiguous.stderr,
      'logferry: -connection could be -c onnection (--container) or the exclusion of "connection": write -c onnection, or NOT connection (or put the query after --)\n',
    );
  });

  it('on a terminal, says which store it read and how many records matched (on stderr)', (t) => {
    if (spawnSync('script', ['--version']).status !== 0) return t.skip('needs util-linux script(1) for a pseudo-terminal');
    const onTerminal = (args: string) => {
      // script(1) runs the command on a pseudo-terminal: stdout and stderr both end up in its output.
      const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ${args} --data-dir ${JSON.stringify(dataDir)}`;
      const result = spawnSync('script', ['-qec', command, '/dev/null'], { cwd, env: cleanEnv({ NO_COLOR: '1' }), encoding: 'utf8', timeout: 30_000 });
      return result.stdout.replaceAll('\r', '');
    };
    assert.match(onTerminal('search nosuchword'), /^logferry: searched local store \S+: no records matched\n$/);
    assert.match(onTerminal('search --limit 3'), /^logferry: searched local store \S+: showing the newest 3 of 8 \(--limit for more\)$/m);
    assert.match(onTerminal('search payment'), /^logferry: searched local store \S+: 2 records$/m);
  });

  it('text output shows control characters and escape sequences escaped; JSON keeps the message as stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logferry-esc-'));
    try {
      const sink = new LocalStoreSink({ dataDir: dir, retentionDays: 100_000, maxBytes: 1e12 });
      await sink.start();
      const file = fileContext('/var/log/containers/evil_shop_app.log', { namespace: 'shop', podName: 'evil', containerName: 'app' }, 'evil-');
      const message = 'login ok\x1b]0;pwned\x07 \x1b[31mred\x1b[0m\rcarriage\ttab \x9b2J \x00nul\x7f';
      sink.write(makeBatch(new AckCounter(), file, [{ offset: 0, timestamp: '2026-11-24T10:00:00Z', message }]));
      await sink.shutdown();
      const text = run(['search', 'login', '--data-dir', dir]);
      assert.equal(text.code, 0, text.stderr);
      assert.equal(text.stdout, 'shop/evil/app 2026-11-24T10:00:00Z login ok\\x1b]0;pwned\\x07 \\x1b[31mred\\x1b[0m\\x0dcarriage\ttab \\x9b2J \\x00nul\\x7f\n');
      assert.doesNotMatch(text.stdout, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
      const json = run(['search', 'login', '-o', 'json', '--data-dir', dir]);
      assert.equal(JSON.parse(json.stdout).message, message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("tail takes kubectl's --tail=N (-n stays the namespace)", () => {
    const last = (args: string[]) =>
      run(['tail', ...args], { cwd })
        .stdout.trim()
        .split('\n')
        .map((l) => l.split(' ').slice(3).join(' '));
    assert.deepEqual(last(['--tail=2']), ['upstream connection reset by peer', 'connection pool resized to 20']);
    assert.deepEqual(last(['--tail', '1', '-n', 'shop']), ['upstream connection reset by peer']);
    assert.equal(last(['--tail=-1']).length, 8);
    const both = run(['tail', '--tail=1', '--lines', '2'], { cwd });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--tail and --lines both set how many lines/);
  });

  it('an invalid --from or --to is exit 2 with one line, not another time range', () => {
    for (const value of ['2026-02-30', '5', 'yesterday']) {
      const { code, stdout, stderr } = run(['search', '--from', value], { cwd });
      assert.equal(code, 2, value);
      assert.equal(stdout, '');
      assert.equal(stderr, `logferry: --from: not a date/time (got ${JSON.stringify(value)}; use RFC 3339, e.g. 2026-11-24T10:00:00Z)\n`);
    }
    assert.equal(run(['search', '--to', '2026-11-24T24:00:00Z'], { cwd }).code, 2);
  });

  it('bad queries and flags exit 2 naming the problem', () => {
    for (const [args, message] of [
      [['search', '--since', '5x'], /--since: expected a duration like 30s, 15m, 2h, 7d \(got "5x"\)/],
      [['search', '-l', 'app=web,'], /--selector: expected a label key at position 9/],
      [['search', '"unclosed'], /query: unclosed quote at position 1/],
      [['search', '--output', 'xml'], /--output: text or json \(got "xml"\)/],
      [['search', '--limit', '-3'], /--limit: a whole number from 1 to 100000/],
      [['tail', '--lines', 'many'], /--lines: a whole number/],
      [['search', '--stream', 'both'], /--stream: stdout or stderr/],
    ] as const) {
      const { code, stderr } = run([...args], { cwd });
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr, message, args.join(' '));
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('no store where it looks: exit 2 with the path and what to do', () => {
    const empty = mkdtempSync(join(tmpdir(), 'logferry-nostore-'));
    try {
      const { code, stderr } = run(['search'], { cwd: empty });
      assert.equal(code, 2);
      assert.match(stderr, /no local store in logferry-data\/store: run `logferry run` \(or `npm start`\) first, or pass --data-dir/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('Elasticsearch unreachable: exit 1 naming the host tried', () => {
    const { code, stdout, stderr } = run(['search', 'x'], { cwd, env: { ELASTICSEARCH_HOSTS: 'http://127.0.0.1:1' } });
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.match(stderr, /^logferry: cannot reach Elasticsearch: tried http:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });

  it('with ELASTICSEARCH_HOSTS set, searches Elasticsearch and prints the same', async (t) => {
    const url = sharedElasticsearch(t);
    if (!url) return;
    const config = resolveElasticsearchConfig({ hosts: [url], index }, {})!;
    const sink = new ElasticsearchSink(config);
    await sink.start();
    const counter = new AckCounter();
    for (const f of queryFixture('c')) sink.write(makeBatch(counter, f.file, f.records));
    await sink.shutdown();
    await refresh(url, `${index}-*`);
    const args = ['search', '-o', 'json', 'payment', '-l', 'tier=backend'];
    const fromEs = run([...args, '--index', `${index}-*`], { cwd, env: { ELASTICSEARCH_HOSTS: url } });
    const fromLocal = run(args, { cwd });
    assert.equal(fromEs.code, 0, fromEs.stderr);
    assert.equal(fromEs.stdout.trim().split('\n').length, 2);
    assert.deepEqual(
      fromEs.stdout.split('\n').map((l) => l && JSON.parse(l)),
      fromLocal.stdout.split('\n').map((l) => l && JSON.parse(l)),
    );
  });

  it('tail prints the last N records; tail -f then prints new ones as they are stored', async () => {
    const last = run(['tail', '--lines', '3'], { cwd });
    assert.equal(last.code, 0);
    assert.deepEqual(
      last.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' ').slice(3).join(' ')),
      ['checkpoint complete: wrote 12 buffers', 'upstream connection reset by peer', 'connection pool resized to 20'],
    );

    const child = spawn(process.execPath, [BIN, 'tail', '-f', '--lines', '1', '-n', 'shop', '--interval', '100'], {
      cwd,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const waitFor = async (pattern: RegExp) => {
      for (let i = 0; i < 100 && !pattern.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, pattern);
    };
    try {
      await waitFor(/upstream connection reset by peer\n/);
      const sink = new LocalStoreSink({ dataDir, retentionDays: 100_000, maxBytes: 1e12 });
      await sink.start();
      const web = fileContext('/var/log/containers/web-1_shop_nginx.log', { namespace: 'shop', podName: 'web-1', containerName: 'nginx' }, 'cweb-');
      const other = fileContext('/var/log/containers/x_elsewhere_c.log', { namespace: 'elsewhere', podName: 'x', containerName: 'c' }, 'cx-');
      const counter = new AckCounter();
      sink.write(makeBatch(counter, other, [{ offset: 1, timestamp: '2026-11-24T10:00:30Z', message: 'not in shop' }]));
      sink.write(makeBatch(counter, web, [{ offset: 300, timestamp: '2026-11-24T10:00:30Z', message: 'GET /checkout 200' }]));
      await sink.shutdown();
      await waitFor(/shop\/web-1\/nginx 2026-11-24T10:00:30Z GET \/checkout 200\n/);
      assert.doesNotMatch(out, /not in shop/);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, 'Ctrl-C ends tail -f cleanly');
    assert.equal(out.split('\n').filter((l) => l.includes('GET /checkout')).length, 1);
  });
});
