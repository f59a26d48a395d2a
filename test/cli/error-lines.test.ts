/**
 * Issue 13, item 8: errors are one line a user can act on, naming the setting, file or host — never a
 * stack trace (only at debug level) and never a raw OpenSSL string; a normal shutdown says nothing about
 * the Kubernetes API being unreachable.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runAgent, startAgentProcess } from '../helpers/agent-process.js';
import { FakeKubeApiServer } from '../helpers/fake-kube-apiserver.js';
import { describeConnectionError } from '../../src/core/connection-error.js';
import { errorLine } from '../../src/cli/main.js';

const STACK_FRAME = /^\s+at /m;
const OPENSSL = /SSL routines|ssl3_get_record|deps\/openssl/;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

describe('errors are one line naming the host or setting', () => {
  let dir: string;
  let plain: Server;
  let plainPort: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lf-errlines-'));
    writeFileSync(join(dir, 'in.log'), 'hello\n');
    // A plain-HTTP server: what an https:// address pointing at an http port reaches.
    plain = createServer((_req, res) => res.end('{}'));
    plainPort = await listen(plain);
  });
  after(() => {
    plain.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a kubeconfig whose server is http:// is exit 2 with one line naming the file and the server, no stack', async () => {
    const kubeconfig = join(dir, 'kubeconfig-http.yaml');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: lab, cluster: {server: "http://10.0.0.1:8080"}}]',
        'users: [{name: u, user: {token: abc}}]',
        'contexts: [{name: x, context: {cluster: lab, user: u}}]',
        'current-context: x',
      ].join('\n'),
    );
    const result = await runAgent({
      args: ['run', '--oneshot', '--input', join(dir, 'in.log'), '--data-dir', join(dir, 'd-kubeconfig')],
      env: { KUBECONFIG: kubeconfig, NODE_NAME: 'n1' },
      timeoutMs: 30_000,
    });
    assert.equal(result.code, 2, result.stderr);
    assert.doesNotMatch(result.stderr, STACK_FRAME);
    assert.doesNotMatch(result.stderr, /skipTLSVerify/, "client-node's message is replaced by ours");
    assert.match(result.stderr, /^logferry: KUBECONFIG .*kubeconfig-http\.yaml, cluster "lab": server http:\/\/10\.0\.0\.1:8080 is plain HTTP.*https:\/\//);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  });

  it('https to a plain-HTTP Elasticsearch port: one line naming the host and the fix, no OpenSSL string, no stack', async () => {
    const result = await runAgent({
      args: ['run', '--oneshot', '--input', join(dir, 'in.log'), '--data-dir', join(dir, 'd-es')],
      env: { ELASTICSEARCH_HOSTS: `https://127.0.0.1:${plainPort}`, NODE_NAME: 'n1' },
      timeoutMs: 30_000,
    });
    assert.notEqual(result.code, 0);
    assert.doesNotMatch(result.stderr, STACK_FRAME, result.stderr);
    assert.doesNotMatch(result.stderr, OPENSSL, result.stderr);
    const last = result.stderr.trim().split('\n').at(-1)!;
    assert.match(
      last,
      new RegExp(`^logferry: .*https://127\\.0\\.0\\.1:${plainPort}: the server does not speak TLS on that port .*plain HTTP.*http:// in ELASTICSEARCH_HOSTS`),
    );
    assert.doesNotMatch(last, /ELASTICSEARCH_CA_FILE|TLS_VERIFY/, 'a CA would not help a server that does not speak TLS');
  });

  it('https to a plain-HTTP API server port: the warning names the server and says it answers plain HTTP', async () => {
    const config = join(dir, 'kube-https.yaml');
    writeFileSync(config, `server: {address: ""}\nkubernetes:\n  apiServer: https://127.0.0.1:${plainPort}\n  startTimeoutMs: 1500\n`);
    const result = await runAgent({
      args: ['run', '--oneshot', '--config', config, '--input', join(dir, 'in.log'), '--data-dir', join(dir, 'd-kube')],
      env: { NODE_NAME: 'n1', LOGFERRY_LOG_LEVEL: 'info' },
      timeoutMs: 30_000,
    });
    assert.doesNotMatch(result.stderr, OPENSSL, result.stderr);
    assert.doesNotMatch(result.stderr, STACK_FRAME);
    assert.match(result.stderr, new RegExp(`https://127\\.0\\.0\\.1:${plainPort}: the server does not speak TLS on that port .*kubernetes\\.apiServer`));
  });

  it('a normal shutdown does not log "kubernetes API unreachable"', async () => {
    const api = await FakeKubeApiServer.start({ tokens: ['t0k'] });
    try {
      const tokenFile = join(dir, 'token');
      writeFileSync(tokenFile, 't0k\n');
      const config = join(dir, 'kube-ok.yaml');
      writeFileSync(config, `server: {address: ""}\nkubernetes:\n  apiServer: ${JSON.stringify(api.url)}\n  tokenFile: ${JSON.stringify(tokenFile)}\n`);
      const agent = startAgentProcess({
        args: ['run', '--config', config, '--input', join(dir, 'in.log'), '--data-dir', join(dir, 'd-stop')],
        env: { NODE_NAME: 'n1', LOGFERRY_LOG_LEVEL: 'info' },
      });
      const deadline = Date.now() + 20_000;
      while (!agent.stderr().includes('logferry agent started') || !agent.stderr().includes('kubernetes API watch established')) {
        assert.ok(Date.now() < deadline, `agent did not start: ${agent.stderr()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      agent.child.kill('SIGTERM');
      const { code } = await agent.exited;
      assert.equal(code, 0, agent.stderr());
      assert.match(agent.stderr(), /logferry agent stopped/);
      assert.doesNotMatch(agent.stderr(), /unreachable/, agent.stderr());
    } finally {
      await api.close();
    }
  });

  it('unexpected errors: the message without a stack, the stack at debug level', () => {
    const error = new Error('boom');
    assert.equal(errorLine(error, 'info'), 'boom');
    assert.match(errorLine(error, 'debug'), /^Error: boom\n\s+at /);
  });

  it('low-level errors in words, with the code, the host and what to do', () => {
    const ctx = { host: 'https://es:9200', setting: 'ELASTICSEARCH_HOSTS', caSetting: 'ELASTICSEARCH_CA_FILE' };
    const coded = (code: string, message = code) => Object.assign(new Error(message), { code });
    const cases: Array<[unknown, RegExp]> = [
      [coded('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:9200'), /^https:\/\/es:9200: connection refused \(ECONNREFUSED\): .*ELASTICSEARCH_HOSTS/],
      [coded('ENOTFOUND', 'getaddrinfo ENOTFOUND es'), /^https:\/\/es:9200: host name not found \(ENOTFOUND\): check the name in ELASTICSEARCH_HOSTS/],
      [
        coded('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'),
        /not signed by a trusted CA \(SELF_SIGNED_CERT_IN_CHAIN\): give the CA that signed it in ELASTICSEARCH_CA_FILE/,
      ],
      [coded('ERR_TLS_CERT_ALTNAME_INVALID'), /not for this host name/],
      [
        coded(
          'EPROTO',
          'write EPROTO 80ACADFE507F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n',
        ),
        /does not speak TLS on that port \(EPROTO\)/,
      ],
      // Node's happy-eyeballs connect: the codes are on the inner errors.
      [new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')], ''), /connection refused \(ECONNREFUSED\)/],
      [
        Object.assign(new Error('fetch failed'), { cause: coded('UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error') }),
        /connection timed out \(UND_ERR_CONNECT_TIMEOUT: Connect Timeout Error\)/,
      ],
    ];
    for (const [error, expected] of cases) {
      const line = describeConnectionError(error, ctx);
      assert.match(line, expected);
      assert.doesNotMatch(line, /\n|SSL routines/);
    }
  });
});
