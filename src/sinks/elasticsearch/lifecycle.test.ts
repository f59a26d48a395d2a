/**
 * The lifecycle policy at start (lifecycle.ts), against a scripted cluster: the test servers from jars have
 * neither ILM nor ISM (their modules are not published), so what a cluster with them is sent is checked here,
 * and what one without them gets is checked against the real servers (replay-across-indices.test.ts).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, it, type TestContext } from 'node:test';
import { fastSinkConfig } from '../../../test/helpers/es-sink.js';
import type { ElasticsearchFileInput } from './config.js';
import { prepareCluster } from './startup.js';
import { Transport } from './transport.js';

interface Seen {
  method: string;
  url: string;
  body: any;
}

type Answer = { status: number; body: unknown } | undefined;

async function cluster(
  t: TestContext,
  version: Record<string, unknown>,
  answer: (r: Seen) => Answer = () => undefined,
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', body: text ? JSON.parse(text) : undefined };
      seen.push(r);
      const given = answer(r) ?? (r.url === '/' ? { status: 200, body: { version } } : { status: 200, body: { acknowledged: true } });
      res.writeHead(given.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(given.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

async function prepare(url: string, extra: Partial<ElasticsearchFileInput>) {
  const transport = new Transport(fastSinkConfig([url], extra));
  try {
    return await prepareCluster(transport, fastSinkConfig([url], extra));
  } finally {
    await transport.close();
  }
}

const ES = { number: '8.19.21', build_flavor: 'default' };
const OS = { number: '2.19.6', distribution: 'opensearch' };
const dataStream = 'logs-kubernetes.container_logs-default';

describe('lifecycle policy at start', () => {
  it('Elasticsearch: an ILM policy (rollover by size or age, delete after N days) attached by the data stream template', async (t) => {
    const c = await cluster(t, ES);
    const outcome = await prepare(c.url, { dataStream, lifecycle: { rolloverMaxSize: '10gb', rolloverMaxAge: '12h', deleteAfterDays: 7 } });
    assert.equal(outcome.kind, 'ready');
    assert.deepEqual(outcome.kind === 'ready' && outcome.notes, []);
    const policy = c.seen.find((r) => r.method === 'PUT' && r.url === '/_ilm/policy/logferry-logs');
    assert.deepEqual(policy?.body.policy.phases, {
      hot: { min_age: '0ms', actions: { rollover: { max_primary_shard_size: '10gb', max_age: '12h' } } },
      delete: { min_age: '7d', actions: { delete: {} } },
    });
    const template = c.seen.find((r) => r.url === `/_index_template/logferry-${dataStream}`);
    assert.equal(template?.body.template.settings['index.lifecycle.name'], 'logferry-logs');
    assert.deepEqual(template?.body.data_stream, {});
    assert.ok(c.seen.indexOf(policy) < c.seen.indexOf(template), 'the policy exists before the template names it');
  });

  it('Elasticsearch, daily indices: no rollover (no write alias), deleted by age', async (t) => {
    const c = await cluster(t, ES);
    await prepare(c.url, { index: 'k8s', lifecycle: { policy: 'k8s-logs', deleteAfterDays: 3 } });
    const policy = c.seen.find((r) => r.url === '/_ilm/policy/k8s-logs');
    assert.deepEqual(policy?.body.policy.phases.hot.actions, {});
    assert.equal(policy?.body.policy.phases.delete.min_age, '3d');
    assert.equal(c.seen.find((r) => r.url === '/_index_template/logferry-k8s')?.body.template.settings['index.lifecycle.name'], 'k8s-logs');
  });

  it('OpenSearch: an ISM policy whose ism_template attaches it to the data stream; an existing one is updated by sequence number', async (t) => {
    const c = await cluster(t, OS, (r) => {
      if (r.method === 'PUT' && r.url === '/_plugins/_ism/policies/logferry-logs')
        return { status: 409, body: { error: { type: 'version_conflict_engine_exception' } } };
      if (r.method === 'GET' && r.url === '/_plugins/_ism/policies/logferry-logs') return { status: 200, body: { _seq_no: 4, _primary_term: 2 } };
      return undefined;
    });
    const outcome = await prepare(c.url, { dataStream, lifecycle: {} });
    assert.equal(outcome.kind, 'ready');
    const update = c.seen.find((r) => r.url === '/_plugins/_ism/policies/logferry-logs?if_seq_no=4&if_primary_term=2');
    assert.ok(update, c.seen.map((r) => `${r.method} ${r.url}`).join(', '));
    const policy = update.body.policy;
    assert.deepEqual(policy.ism_template, [{ index_patterns: [dataStream], priority: 100 }]);
    assert.deepEqual(policy.states[0].actions, [{ rollover: { min_primary_shard_size: '50gb', min_index_age: '1d' } }]);
    assert.deepEqual(policy.states[0].transitions, [{ state_name: 'delete', conditions: { min_rollover_age: '30d' } }]);
    const template = c.seen.find((r) => r.url === `/_index_template/logferry-${dataStream}`);
    assert.equal(template?.body.template.settings['index.lifecycle.name'], undefined, 'ISM attaches itself');
  });

  it('a cluster without ILM: a note, and the template installed without the policy', async (t) => {
    const c = await cluster(t, ES, (r) =>
      r.url.startsWith('/_ilm/') ? { status: 400, body: { error: 'no handler found for uri [/_ilm/policy/logferry-logs] and method [PUT]' } } : undefined,
    );
    const outcome = await prepare(c.url, { dataStream, lifecycle: {} });
    assert.equal(outcome.kind, 'ready');
    assert.match(outcome.kind === 'ready' ? outcome.notes.join('\n') : '', /lifecycle policy logferry-logs not attached: this cluster has no ILM/);
    const template = c.seen.find((r) => r.url === `/_index_template/logferry-${dataStream}`);
    assert.equal(template?.body.template.settings['index.lifecycle.name'], undefined);
  });

  it('install: false attaches a policy managed elsewhere, and says so when it does not exist', async (t) => {
    const c = await cluster(t, ES, (r) =>
      r.method === 'GET' && r.url === '/_ilm/policy/theirs' ? { status: 404, body: { error: { type: 'resource_not_found_exception' } } } : undefined,
    );
    const outcome = await prepare(c.url, { dataStream, lifecycle: { install: false, policy: 'theirs' } });
    assert.equal(
      c.seen.some((r) => r.method === 'PUT' && r.url.startsWith('/_ilm/')),
      false,
    );
    assert.match(outcome.kind === 'ready' ? outcome.notes.join('\n') : '', /theirs does not exist/);
    assert.equal(c.seen.find((r) => r.url === `/_index_template/logferry-${dataStream}`)?.body.template.settings['index.lifecycle.name'], 'theirs');
  });

  it('the configuration checks sizes and ages', () => {
    assert.throws(() => fastSinkConfig(['http://127.0.0.1:9'], { lifecycle: { rolloverMaxSize: '50 GB' } }), /lifecycle\.rolloverMaxSize: a size such as 50gb/);
    assert.throws(() => fastSinkConfig(['http://127.0.0.1:9'], { lifecycle: { rolloverMaxAge: '1w' } }), /lifecycle\.rolloverMaxAge: an age such as 1d/);
  });
});
