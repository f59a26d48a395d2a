/**
 * Issue 13, item 9: security foot-guns. Credentials over plain http:// are refused unless a setting
 * allows it; TLS verification turned off is warned about at start; answers from Elasticsearch and the
 * API server are read with a size limit; a secret in the configuration file (a ConfigMap in a cluster)
 * gets a warning pointing to a Secret. (`logferry inject --path`: test/deploy/inject.test.ts.)
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runAgent } from '../helpers/agent-process.js';
import { resolveElasticsearchConfig } from '../../src/sinks/elasticsearch/config.js';
import { Transport } from '../../src/sinks/elasticsearch/transport.js';
import { resolveApiClient } from '../../src/kubernetes/api-client.js';
import { kubernetesConfigSchema } from '../../src/kubernetes/config.js';
import { ListWatch } from '../../src/kubernetes/list-watch.js';
import { createKubernetesMetadata } from '../../src/kubernetes/metadata-service.js';
import { Backoff } from '../../src/core/backoff.js';
import { buildManifests } from '../../src/deploy/objects.js';

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

/**
 * A 16 MiB answer in 64 KiB chunks, or until the client goes away. Against limits of 1 MiB it stands for
 * an endless one; bounded so that a reader without a limit (the code before the fix) fails the test
 * rather than filling the test runner's memory.
 */
function huge(res: ServerResponse, head = ''): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write(head);
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let left = 256;
  const pump = () => {
    while (!res.destroyed && left > 0) {
      left--;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end();
  };
  res.on('close', () => res.removeAllListeners('drain'));
  pump();
}

describe('security foot-guns', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-security-'));
    writeFileSync(join(dir, 'in.log'), 'hello\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('credentials over plain http://', () => {
    it('the agent refuses to start: exit 2, one line naming the variable, the host and both ways out', async () => {
      const result = await runAgent({
        args: ['run', '--oneshot', '--input', join(dir, 'in.log'), '--data-dir', join(dir, 'd-http')],
        env: { ELASTICSEARCH_HOST: 'es.example', ELASTICSEARCH_USERNAME: 'elastic', ELASTICSEARCH_PASSWORD: 's3cret', NODE_NAME: 'n1' },
        timeoutMs: 30_000,
      });
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        /^logferry: ELASTICSEARCH_PASSWORD: credentials would be sent in clear text to http:\/\/es\.example:9200 \(ELASTICSEARCH_HOST\); use https .*ELASTICSEARCH_ALLOW_INSECURE_CREDENTIALS=true/,
      );
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /s3cret/);
    });

    it('API keys, credentials in a URL and the config file are refused the same way', () => {
      assert.throws(
        () => resolveElasticsearchConfig(undefined, { ELASTICSEARCH_HOSTS: 'http://es:9200', ELASTICSEARCH_API_KEY: 'k' }),
        /^UsageError: ELASTICSEARCH_API_KEY: credentials would be sent in clear text/,
      );
      assert.throws(
        () => resolveElasticsearchConfig(undefined, { ELASTICSEARCH_HOSTS: 'http://u:p@es:9200' }),
        /^UsageError: ELASTICSEARCH_HOSTS: credentials would be sent in clear text/,
      );
      assert.throws(
        () => resolveElasticsearchConfig({ hosts: ['https://a:9200', 'http://b:9200'], auth: { username: 'u', password: 'p' } }, {}),
        /^UsageError: output\.elasticsearch\.auth\.password: credentials would be sent in clear text to http:\/\/b:9200 \(output\.elasticsearch\.hosts\)/,
      );
    });

    it('allowed over https, to this machine, without credentials, or when a setting accepts the risk', () => {
      const creds = { ELASTICSEARCH_USERNAME: 'u', ELASTICSEARCH_PASSWORD: 'p' };
      assert.ok(resolveElasticsearchConfig(undefined, { ...creds, ELASTICSEARCH_HOST: 'es', ELASTICSEARCH_SCHEME: 'https' }));
      assert.ok(resolveElasticsearchConfig(undefined, { ...creds, ELASTICSEARCH_HOSTS: 'http://127.0.0.1:9200,http://localhost:9201,http://[::1]:9202' }));
      assert.ok(resolveElasticsearchConfig(undefined, { ELASTICSEARCH_HOST: 'es' }));
      assert.ok(resolveElasticsearchConfig(undefined, { ...creds, ELASTICSEARCH_HOST: 'es', ELASTICSEARCH_ALLOW_INSECURE_CREDENTIALS: 'true' }));
      assert.ok(resolveElasticsearchConfig({ hosts: ['http://es:9200'], auth: { apiKey: 'k' }, allowInsecureCredentials: true }, {}));
      assert.throws(
        () => resolveElasticsearchConfig(undefined, { ELASTICSEARCH_HOST: 'es', ELASTICSEARCH_ALLOW_INSECURE_CREDENTIALS: 'maybe' }),
        /ELASTICSEARCH_ALLOW_INSECURE_CREDENTIALS: true or false/,
      );
    });

    it('a bearer token to an http:// API server on another machine is refused unless allowed', async () => {
      const tokenFile = join(dir, 'token');
      writeFileSync(tokenFile, 't\n');
      const options = { env: {}, serviceAccountDir: join(dir, 'no-sa') };
      const config = (extra: object) => kubernetesConfigSchema.parse({ tokenFile, ...extra });
      await assert.rejects(
        resolveApiClient(config({ apiServer: 'http://10.0.0.1:8080' }), options),
        /^UsageError: kubernetes\.apiServer: the API server http:\/\/10\.0\.0\.1:8080 is plain HTTP and the bearer token would travel in clear text/,
      );
      const local = await resolveApiClient(config({ apiServer: 'http://127.0.0.1:8001' }), options);
      const allowed = await resolveApiClient(config({ apiServer: 'http://10.0.0.1:8080', allowInsecureCredentials: true }), options);
      await local?.close();
      await allowed?.close();
      assert.ok(local && allowed);
    });

    it('the generated DaemonSet speaks https when credentials come from a Secret', () => {
      const env = (options: Parameters<typeof buildManifests>[0]) => {
        const ds = buildManifests(options).find((o) => o.kind === 'DaemonSet')!;
        return Object.fromEntries((ds.spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>).map((e) => [e.name, e.value]));
      };
      assert.equal(env({ esHost: 'es', esSecret: 'es-creds' }).ELASTICSEARCH_SCHEME, 'https');
      assert.equal(env({ esHost: 'es' }).ELASTICSEARCH_SCHEME, 'http', 'no credentials: nothing to protect, plain Elasticsearch still works');
      assert.equal(env({ esHost: 'es', esSecret: 'es-creds', esScheme: 'http' }).ELASTICSEARCH_SCHEME, 'http', 'an explicit choice stays');
    });
  });

  describe('warnings at start', () => {
    async function validate(name: string, yaml: string, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, yaml);
      return runAgent({ args: ['validate', '--config', file], env, timeoutMs: 30_000 });
    }

    it('TLS verification turned off (Elasticsearch, API server)', async () => {
      const es = await validate('es-noverify', 'output:\n  elasticsearch:\n    hosts: ["https://es.example:9200"]\n    tls: {verify: false}\n');
      assert.equal(es.code, 0, es.stderr);
      assert.match(es.stderr, /^logferry: warning: Elasticsearch TLS verification is off .*ELASTICSEARCH_CA_FILE/m);
      const env = await validate('es-noverify-env', '{}\n', { ELASTICSEARCH_HOSTS: 'https://es.example:9200', ELASTICSEARCH_TLS_VERIFY: 'false' });
      assert.match(env.stderr, /warning: Elasticsearch TLS verification is off/);
      const kube = await validate('kube-noverify', 'kubernetes:\n  insecureSkipTlsVerify: true\n');
      assert.match(kube.stderr, /^logferry: warning: .*kube-noverify\.yaml: kubernetes\.insecureSkipTlsVerify: .*kubernetes\.caFile/m);
      const quiet = await validate('verified', 'output:\n  elasticsearch:\n    hosts: ["https://es.example:9200"]\n');
      assert.doesNotMatch(quiet.stderr, /warning/);
    });

    it("a kubeconfig's insecure-skip-tls-verify is warned about when the watch starts", async () => {
      const kubeconfig = join(dir, 'kubeconfig-insecure.yaml');
      writeFileSync(
        kubeconfig,
        'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://10.0.0.1:6443", insecure-skip-tls-verify: true}}]\n' +
          'users: [{name: u, user: {token: abc}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
      );
      const warnings: string[] = [];
      const log = { info: () => undefined, debug: () => undefined, warn: (_c: object, m: string) => void warnings.push(m) };
      const service = await createKubernetesMetadata(kubernetesConfigSchema.parse({ kubeconfig }), { env: {}, nodeName: 'n1', log });
      await service?.stop();
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0], /TLS verification of the API server is off/);
    });

    it('a password or API key in the configuration file points to a Secret', async () => {
      const result = await validate(
        'password',
        'output:\n  elasticsearch:\n    hosts: ["https://es.example:9200"]\n    auth: {username: elastic, password: s3cret}\n',
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /^logferry: warning: .*password\.yaml: output\.elasticsearch\.auth\.password: .*ConfigMap.*Secret.*ELASTICSEARCH_PASSWORD/m);
      assert.doesNotMatch(result.stderr, /s3cret/);
      const apiKey = await validate('apikey', 'output:\n  elasticsearch:\n    hosts: ["https://es.example:9200"]\n    auth: {apiKey: "id:key"}\n');
      assert.match(apiKey.stderr, /warning: .*output\.elasticsearch\.auth\.apiKey: .*Secret/);
      const fromEnv = await validate('env-password', 'output:\n  elasticsearch:\n    hosts: ["https://es.example:9200"]\n', {
        ELASTICSEARCH_USERNAME: 'u',
        ELASTICSEARCH_PASSWORD: 'p',
      });
      assert.doesNotMatch(fromEnv.stderr, /warning/, 'credentials from the environment (a Secret) are fine');
    });
  });

  describe('answers are read with a size limit', () => {
    let server: Server;
    let url: string;
    before(async () => {
      server = createServer((req, res) => {
        if (req.url?.startsWith('/api/v1/pods') && req.url.includes('watch=true')) return huge(res, '{"type":"ADDED","object":{"metadata":{"name":"');
        if (req.url?.startsWith('/api/v1/pods')) return huge(res, '{"kind":"PodList","metadata":{"resourceVersion":"1"},"items":[');
        huge(res);
      });
      url = await listen(server);
    });
    after(() => {
      server.closeAllConnections();
      server.close();
    });

    it('Elasticsearch: an answer past the limit fails the request with a message naming the host and the limit', async () => {
      const config = { ...resolveElasticsearchConfig({ hosts: [url] }, {})!, maxResponseBytes: 1024 * 1024 };
      const transport = new Transport(config);
      try {
        const result = await transport.request('GET', '/');
        assert.equal(result.kind, 'error');
        assert.match(
          result.kind === 'error' ? result.error : '',
          new RegExp(`^the answer of 127\\.0\\.0\\.1:\\d+ to GET / is larger than 1 MiB, the most logferry reads \\(ERESPONSE_TOO_LARGE\\)`),
        );
      } finally {
        await transport.close(true);
      }
      assert.equal(resolveElasticsearchConfig({ hosts: [url] }, {})!.maxResponseBytes, 64 * 1024 * 1024, 'a default limit');
    });

    it('API server: a list or a watch event past the limit fails with a message, not a full heap', { timeout: 30_000 }, async () => {
      const client = (await resolveApiClient(kubernetesConfigSchema.parse({ apiServer: url }), { env: {}, serviceAccountDir: join(dir, 'no-sa') }))!;
      const errors: string[] = [];
      for (const limits of [{ maxListBytes: 1024 * 1024 }, { maxEventBytes: 1024 * 1024 }]) {
        let watch: ListWatch<{ metadata?: { name?: string } }>;
        const seen = new Promise<void>((resolve) => {
          watch = new ListWatch({
            client,
            resource: 'pods',
            handler: { replace: () => undefined, apply: () => undefined },
            backoff: new Backoff({ minMs: 60_000, maxMs: 60_000 }),
            watchTimeoutSeconds: 60,
            requestTimeoutMs: 10_000,
            ...limits,
            // The watch case starts from a resourceVersion, as after a list: straight to the watch request.
            log: {
              info: () => undefined,
              warn: () => undefined,
              debug: (context: { error?: string }) => (context.error !== undefined ? resolve() : undefined),
            },
          });
          if ('maxEventBytes' in limits) watch.stats.resourceVersion = '1';
          watch.start();
        });
        await seen;
        errors.push(watch!.stats.lastError ?? '');
        await watch!.stop();
      }
      await client.close();
      assert.match(errors[0], /the list of pods is larger than 1 MiB, the most logferry reads/);
      assert.match(errors[1], /a watch event of pods is larger than 1 MiB, the most logferry reads/);
    });
  });
});
