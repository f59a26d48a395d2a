/**
 * Issue 15, secured clusters: the suite elasticsearch-secured-*.test.ts run against one secured test server
 * of scripts/es-runtime.mjs each (Elasticsearch 8.19 with x-pack security, OpenSearch 2.19 with its
 * security plugin; HTTPS only, with a CA made by openssl at start): the real Elasticsearch sink, and
 * `logferry run` / `logferry search`, as users configure them.
 *
 * What users configure and what they hit: https with the CA file (ELASTICSEARCH_CA_FILE), basic auth, an
 * API key (Elasticsearch), exactly-once (the same records again add nothing: 409s); a wrong password (one
 * clear line naming the host and the setting, counted, /readyz not ready, no crash), a certificate from a
 * CA that is not trusted (the CA setting named), a read-only user (the 403 reported as what it is).
 *
 * The server is started once for its tests (10-40 s; more on a loaded machine). Without its jars (`node
 * scripts/es.mjs --prepare` fetches them) the tests skip outside CI, with that reason.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { resolveElasticsearchConfig, type ElasticsearchConfig, type ElasticsearchFileInput } from '../../src/sinks/elasticsearch/config.js';
import { ElasticsearchSink } from '../../src/sinks/elasticsearch/sink.js';
import { BIN, sleep, startAgentProcess } from './agent-process.js';
import { loadRuntime, type RunningElasticsearch, type SecuredServerName, type TestUser } from './elasticsearch-harness.js';
import { AckTracker, makeRecords } from './records.js';

const runtime = await loadRuntime();
const secure = (await import(new URL('../../../scripts/es-secure.mjs', import.meta.url).href)) as {
  makeCertificates(dir: string, options?: { name?: string; hosts?: string[] }): { ca: string; cert: string; key: string };
};
const N = 300;

/** One HTTPS request to the secured node, trusting its CA; the answer's status and JSON. */
function call(es: RunningElasticsearch, user: TestUser, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${es.url}${path}`,
      {
        method,
        ca: readFileSync(es.caFile!),
        headers: {
          authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`,
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function count(es: RunningElasticsearch, pattern: string): Promise<number> {
  await call(es, es.users!.admin, 'POST', `/${pattern}/_refresh`);
  const answer = await call(es, es.users!.admin, 'GET', `/${pattern}/_count`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.count as number;
}

/** The sink's config as a user writes it: hosts, CA and credentials from the environment, the rest from the file. */
function envConfig(es: RunningElasticsearch, env: Record<string, string>, file: ElasticsearchFileInput = {}): ElasticsearchConfig {
  return resolveElasticsearchConfig(
    { retryInitialDelayMs: 50, retryMaxDelayMs: 500, deadHostRetryMs: 100, flushIntervalMs: 50, ...file },
    { ELASTICSEARCH_HOSTS: es.url, ELASTICSEARCH_CA_FILE: es.caFile!, ...env },
  )!;
}

function sinkFor(t: TestContext, config: ElasticsearchConfig, errors: string[]): ElasticsearchSink {
  const sink = new ElasticsearchSink(config, { onError: (message, context) => errors.push(`${message} ${JSON.stringify(context)}`) });
  t.after(() => sink.shutdown(200));
  return sink;
}

/** N records through a new sink; the tracker's report. */
async function ship(t: TestContext, config: ElasticsearchConfig, errors: string[], from = 0) {
  const sink = sinkFor(t, config, errors);
  await sink.start();
  const tracker = new AckTracker();
  sink.write(makeRecords(N, { tracker, from }));
  await sink.flush();
  return { sink, report: tracker.report() };
}

function freeLoopbackPort(): Promise<number> {
  return runtime.freePort();
}

/** The suite for one secured server (started in `before`, stopped in `after`). */
export function securedSuite(name: SecuredServerName): void {
  const info = runtime.describeServer(name);
  const opensearch = info.product === 'OpenSearch';
  describe(`secured ${info.product} ${info.version} (${name})`, { timeout: 300_000 }, () => {
    let es: RunningElasticsearch | undefined;
    let skip: string | undefined;
    let dataDir: string;
    const tag = `sec${process.pid}${opensearch ? 'os' : 'es'}`;

    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), `logferry-${name}-`));
      const started = Date.now();
      try {
        es = await runtime.startElasticsearch({ port: await runtime.freePort(), dataDir, server: name });
      } catch (error) {
        if (error instanceof runtime.ElasticsearchMissing && process.env.CI !== 'true') {
          skip = `${info.product} ${info.version} (secured): ${error.message.split('\n')[0]}; \`node scripts/es.mjs --prepare\` fetches its jars`;
          return;
        }
        throw error;
      }
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${es.child.pid}/status`, 'utf8'));
      process.stderr.write(
        `# ${info.product} ${info.version} secured: up in ${((Date.now() - started) / 1000).toFixed(1)} s, RSS ${rss ? Math.round(Number(rss[1]) / 1024) : '?'} MB\n`,
      );
    });
    after(async () => {
      await es?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    /** The running server, or undefined after marking the test skipped. */
    const server = (t: TestContext): RunningElasticsearch | undefined => {
      if (skip !== undefined) t.skip(skip);
      return es;
    };

    it('https with the CA file, basic auth: stored once; the same records again add nothing (409s)', async (t) => {
      const es = server(t);
      if (!es) return;
      const { writer } = es.users!;
      const index = `${tag}basic`;
      const config = envConfig(es, { ELASTICSEARCH_USERNAME: writer.username, ELASTICSEARCH_PASSWORD: writer.password }, { index });
      assert.equal(config.hosts[0].protocol, 'https:');
      const errors: string[] = [];
      const first = await ship(t, config, errors);
      assert.equal(first.sink.serverInfo?.distribution, opensearch ? 'opensearch' : 'elasticsearch');
      assert.equal(first.sink.serverInfo?.version, info.version);
      assert.deepEqual(first.sink.stats(), { stored: N, duplicates: 0, deadLettered: 0, failed: 0, retries: 0 });
      assert.equal(first.report.once, N);
      assert.deepEqual(errors, [], 'no error line (the writer may install templates)');
      assert.equal(first.sink.unhealthyReason(), undefined);

      const again = await ship(t, config, errors);
      assert.deepEqual(again.sink.stats(), { stored: 0, duplicates: N, deadLettered: 0, failed: 0, retries: 0 });
      assert.equal(again.report.once, N, 'each replayed record acknowledged once, as a duplicate');
      assert.equal(await count(es, `${index}-*`), N);
    });

    it('API key (Elasticsearch) / the same user in the config file (OpenSearch): exactly once', async (t) => {
      const es = server(t);
      if (!es) return;
      const index = `${tag}key`;
      const errors: string[] = [];
      let config: ElasticsearchConfig;
      if (es.apiKey) {
        config = envConfig(es, { ELASTICSEARCH_API_KEY: es.apiKey.encoded }, { index });
        assert.equal(config.auth?.kind, 'apiKey');
      } else {
        // OpenSearch's security plugin has no API keys in 2.19: credentials from the file instead of the environment.
        const { writer } = es.users!;
        config = resolveElasticsearchConfig(
          { hosts: [es.url], tls: { caFile: es.caFile! }, auth: { username: writer.username, password: writer.password }, index, flushIntervalMs: 50 },
          {},
        )!;
      }
      const first = await ship(t, config, errors);
      assert.deepEqual(first.sink.stats(), { stored: N, duplicates: 0, deadLettered: 0, failed: 0, retries: 0 });
      const again = await ship(t, config, errors);
      assert.deepEqual(again.sink.stats(), { stored: 0, duplicates: N, deadLettered: 0, failed: 0, retries: 0 });
      assert.equal(await count(es, `${index}-*`), N);
      assert.deepEqual(errors, []);
    });

    it('a certificate from a CA that is not trusted: refused, the message names the CA setting', async (t) => {
      const es = server(t);
      if (!es) return;
      const dir = mkdtempSync(join(tmpdir(), 'logferry-other-ca-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const other = secure.makeCertificates(dir);
      const { writer } = es.users!;
      for (const ca of [other.ca, undefined]) {
        const env: Record<string, string> = { ELASTICSEARCH_USERNAME: writer.username, ELASTICSEARCH_PASSWORD: writer.password };
        const config = resolveElasticsearchConfig(
          { retryInitialDelayMs: 50 },
          { ELASTICSEARCH_HOSTS: es.url, ...(ca ? { ELASTICSEARCH_CA_FILE: ca } : {}), ...env },
        )!;
        const sink = new ElasticsearchSink(config);
        await assert.rejects(sink.start(), (error: Error) => {
          assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${es.port}`), 'the host');
          assert.match(error.message, /ELASTICSEARCH_CA_FILE/, 'the setting to fix');
          assert.match(error.message, /certificate/i);
          assert.equal(error.message.split('\n').length, 1, 'one line');
          return true;
        });
      }
    });

    it('a host name the certificate does not name: refused (host names are checked), the message says so', async (t) => {
      const es = server(t);
      if (!es) return;
      // The same node through its IPv4-mapped IPv6 address: the certificate names localhost and 127.0.0.1 only.
      const mapped = `https://[::ffff:127.0.0.1]:${es.port}`;
      const { writer } = es.users!;
      const config = resolveElasticsearchConfig(
        { retryInitialDelayMs: 50 },
        { ELASTICSEARCH_HOSTS: mapped, ELASTICSEARCH_CA_FILE: es.caFile!, ELASTICSEARCH_USERNAME: writer.username, ELASTICSEARCH_PASSWORD: writer.password },
      )!;
      await assert.rejects(new ElasticsearchSink(config).start(), (error: Error) => {
        assert.match(error.message, /not for this host name/);
        assert.match(error.message, /use a host name the certificate names in ELASTICSEARCH_HOSTS/);
        assert.doesNotMatch(error.message, /did not sign/, 'not blamed on the CA');
        assert.equal(error.message.split('\n').length, 1, 'one line');
        return true;
      });
    });

    it('a read-only user: nothing acknowledged, the 403 reported as a permission problem naming the user and host', async (t) => {
      const es = server(t);
      if (!es) return;
      const { reader } = es.users!;
      const index = `${tag}ro`;
      const config = envConfig(es, { ELASTICSEARCH_USERNAME: reader.username, ELASTICSEARCH_PASSWORD: reader.password }, { index });
      const errors: string[] = [];
      const sink = sinkFor(t, config, errors);
      await sink.start();
      const tracker = new AckTracker();
      sink.write(makeRecords(20, { tracker }));
      const deadline = Date.now() + 15_000;
      while (sink.unhealthyReason() === undefined && Date.now() < deadline) await sleep(100);
      const reason = sink.unhealthyReason() ?? '';
      t.diagnostic(`unhealthy: ${reason}`);
      t.diagnostic(`errors: ${errors.join('\n')}`);
      assert.match(reason, /403/);
      assert.match(reason, new RegExp(`127\\.0\\.0\\.1:${es.port}`));
      assert.match(reason, /ELASTICSEARCH_USERNAME/);
      assert.match(reason, /reader/);
      assert.equal(tracker.report().neverCount, 20, 'nothing acknowledged: the files stay the buffer');
      assert.equal(sink.stats().stored, 0);
      const lines = errors.filter((line) => /403/.test(line));
      assert.ok(lines.length >= 1, errors.join('\n'));
      assert.ok(
        lines.some((line) => /permission|privilege|not allowed|unauthorized|no permissions/i.test(line) && /ELASTICSEARCH_USERNAME/.test(line)),
        lines.join('\n'),
      );
      assert.equal(await count(es, `${index}-*`).catch(() => 0), 0);
    });

    it('logferry run with a wrong password: one clear error line, counted, /readyz not ready, no crash', async (t) => {
      const es = server(t);
      if (!es) return;
      const work = mkdtempSync(join(tmpdir(), 'logferry-secured-run-'));
      t.after(() => rmSync(work, { recursive: true, force: true }));
      const logFile = join(work, 'app.log');
      writeFileSync(logFile, 'first line\nsecond line\n');
      const port = await freeLoopbackPort();
      const configFile = join(work, 'logferry.yaml');
      writeFileSync(configFile, `server:\n  address: 127.0.0.1:${port}\noutput:\n  elasticsearch:\n    index: ${tag}wrong\n    retryMaxDelayMs: 1000\n`);
      const agent = startAgentProcess({
        args: ['run', '--config', configFile, '--input', logFile, '--data-dir', join(work, 'data')],
        env: {
          ELASTICSEARCH_HOSTS: es.url,
          ELASTICSEARCH_CA_FILE: es.caFile!,
          ELASTICSEARCH_USERNAME: es.users!.writer.username,
          ELASTICSEARCH_PASSWORD: 'not-the-password',
          LOGFERRY_LOG_FORMAT: 'json',
          NODE_NAME: 'test-node',
        },
      });
      t.after(() => {
        agent.child.kill('SIGKILL');
      });
      let ready: { status: number; text: string } | undefined;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        await sleep(250);
        try {
          const response = await fetch(`http://127.0.0.1:${port}/readyz`);
          ready = { status: response.status, text: await response.text() };
          if (ready.status !== 200 && /401|credentials/.test(ready.text)) break;
        } catch {
          // Not listening yet.
        }
      }
      await sleep(2000); // a few retries later: still one line, still running
      assert.equal(agent.child.exitCode, null, `still running; stderr:\n${agent.stderr()}`);
      assert.ok(ready, `/readyz answered; stderr:\n${agent.stderr()}`);
      assert.equal(ready.status, 503, ready.text);
      assert.match(ready.text, /401/);
      assert.match(ready.text, /ELASTICSEARCH_PASSWORD/);
      const lines = agent
        .stderr()
        .split('\n')
        .filter((line) => /credentials|401/.test(line));
      assert.equal(lines.length, 1, `one line about it:\n${agent.stderr()}`);
      assert.match(lines[0], new RegExp(`127\\.0\\.0\\.1:${es.port}`), 'names the host');
      assert.match(lines[0], /ELASTICSEARCH_USERNAME|ELASTICSEARCH_PASSWORD/, 'names the setting');
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const counted = /logferry_elasticsearch_startup_refusals_total\{reason="http_401"\} (\d+)/.exec(metrics);
      assert.ok(
        counted && Number(counted[1]) >= 1,
        metrics
          .split('\n')
          .filter((l) => l.includes('refusals'))
          .join('\n'),
      );
    });

    it('logferry search with the same settings finds what the sink stored', async (t) => {
      const es = server(t);
      if (!es) return;
      const { writer } = es.users!;
      const index = `${tag}search`;
      const config = envConfig(es, { ELASTICSEARCH_USERNAME: writer.username, ELASTICSEARCH_PASSWORD: writer.password }, { index });
      const errors: string[] = [];
      await ship(t, config, errors);
      await count(es, `${index}-*`);
      const env: Record<string, string> = {};
      for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !/^(ELASTICSEARCH_|FLUENT_|LOGFERRY_)/.test(key)) env[key] = value;
      Object.assign(env, {
        ELASTICSEARCH_HOSTS: es.url,
        ELASTICSEARCH_CA_FILE: es.caFile!,
        ELASTICSEARCH_USERNAME: writer.username,
        ELASTICSEARCH_PASSWORD: writer.password,
      });
      const search = (extra: Record<string, string>) =>
        spawnSync(process.execPath, [BIN, 'search', 'record', '--index', `${index}-*`, '--from', '2026-11-24T00:00:00Z', '--limit', '5', '-o', 'json'], {
          env: { ...env, ...extra },
          encoding: 'utf8',
          timeout: 30_000,
        });
      const found = search({});
      assert.equal(found.status, 0, found.stderr);
      const docs = found.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      assert.equal(docs.length, 5);
      assert.match(docs[0].message, /^record \d+/);
      const wrong = search({ ELASTICSEARCH_PASSWORD: 'wrong' });
      assert.equal(wrong.status, 1, wrong.stderr);
      assert.match(wrong.stderr, /401/);
      assert.match(wrong.stderr, /ELASTICSEARCH_PASSWORD/);
      assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr);
    });
  });
}
