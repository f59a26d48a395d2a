/** The output's configuration: the environment contract, the file section, how they merge, and the messages. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UsageError } from '../../cli/errors.js';
import { elasticsearchConfigFromEnv, elasticsearchSinkConfigSchema, resolveElasticsearchConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'lf-es-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const caFile = join(dir, 'ca.pem');
writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const notPem = join(dir, 'not.pem');
writeFileSync(notPem, 'hello');

function fails(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof UsageError, `a UsageError (exit 2), got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

describe('Elasticsearch configuration from the environment', () => {
  it('nothing configured: undefined (the agent uses the local store)', () => {
    assert.equal(elasticsearchConfigFromEnv({}), undefined);
    assert.equal(elasticsearchConfigFromEnv({ ELASTICSEARCH_USERNAME: 'u', ELASTICSEARCH_PASSWORD: 'p' }), undefined, 'credentials alone name no cluster');
    assert.equal(elasticsearchConfigFromEnv({ ELASTICSEARCH_HOST: '' }), undefined, 'empty is unset (optional secrets render as "")');
  });

  it('ELASTICSEARCH_HOSTS: a comma-separated list; bare hosts are http on 9200', () => {
    const config = elasticsearchConfigFromEnv({ ELASTICSEARCH_HOSTS: 'https://es-1.example:9243, es-2.example ,http://10.0.0.3:9201' })!;
    assert.deepEqual(
      config.hosts.map((u) => u.href),
      ['https://es-1.example:9243/', 'http://es-2.example:9200/', 'http://10.0.0.3:9201/'],
    );
    assert.deepEqual(config.tls, { ca: undefined, caFile: undefined, verify: true }, 'verification on by default');
    assert.equal(config.gzip, true);
    assert.equal(config.bulkMaxBytes, 5 * 1024 * 1024);
    assert.equal(config.concurrency, 2);
    assert.equal(config.flushIntervalMs, 1000);
  });

  it('ELASTICSEARCH_HOST + ELASTICSEARCH_PORT + ELASTICSEARCH_SCHEME; the seed image names as aliases', () => {
    assert.equal(
      elasticsearchConfigFromEnv({ ELASTICSEARCH_HOST: 'es.logging.svc', ELASTICSEARCH_PORT: '9201', ELASTICSEARCH_SCHEME: 'https' })!.hosts[0].href,
      'https://es.logging.svc:9201/',
    );
    assert.equal(elasticsearchConfigFromEnv({ ELASTICSEARCH_HOST: 'es' })!.hosts[0].href, 'http://es:9200/');
    assert.equal(
      elasticsearchConfigFromEnv({ FLUENT_ELASTICSEARCH_HOST: 'elasticsearch-logging', FLUENT_ELASTICSEARCH_PORT: '9200' })!.hosts[0].href,
      'http://elasticsearch-logging:9200/',
    );
    assert.equal(elasticsearchConfigFromEnv({ ELASTICSEARCH_HOST: 'a', FLUENT_ELASTICSEARCH_HOST: 'b' })!.hosts[0].hostname, 'a', 'the logferry name wins');
    assert.equal(
      elasticsearchConfigFromEnv({ ELASTICSEARCH_HOSTS: 'http://list:9200', ELASTICSEARCH_HOST: 'single' })!.hosts[0].hostname,
      'list',
      'the list wins',
    );
    assert.equal(elasticsearchConfigFromEnv({ ELASTICSEARCH_HOST: '::1'.replace('::1', '[::1]'), ELASTICSEARCH_PORT: '9200' })!.hosts[0].host, '[::1]:9200');
  });

  it('credentials: basic, API key (id:key is encoded), URL user info', () => {
    // https: credentials are refused over plain http to another machine (test/cli/security.test.ts).
    const es = { ELASTICSEARCH_HOST: 'es', ELASTICSEARCH_SCHEME: 'https' };
    assert.deepEqual(elasticsearchConfigFromEnv({ ...es, ELASTICSEARCH_USERNAME: 'elastic', ELASTICSEARCH_PASSWORD: 's3cret' })!.auth, {
      kind: 'basic',
      username: 'elastic',
      password: 's3cret',
    });
    assert.deepEqual(elasticsearchConfigFromEnv({ ...es, ELASTICSEARCH_API_KEY: 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==' })!.auth, {
      kind: 'apiKey',
      apiKey: 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==',
    });
    assert.deepEqual(elasticsearchConfigFromEnv({ ...es, ELASTICSEARCH_API_KEY: 'id1:key1' })!.auth, {
      kind: 'apiKey',
      apiKey: Buffer.from('id1:key1').toString('base64'),
    });
    const withUser = elasticsearchConfigFromEnv({ ELASTICSEARCH_HOSTS: 'https://elastic:pw@es:9200' })!;
    assert.equal(withUser.hosts[0].username, 'elastic');
  });

  it('TLS: CA file read and checked; verification off only when said so', () => {
    const config = elasticsearchConfigFromEnv({ ELASTICSEARCH_HOSTS: 'https://es:9200', ELASTICSEARCH_CA_FILE: caFile })!;
    assert.match(config.tls.ca!, /BEGIN CERTIFICATE/);
    assert.equal(config.tls.verify, true);
    assert.equal(elasticsearchConfigFromEnv({ ELASTICSEARCH_HOSTS: 'https://es:9200', ELASTICSEARCH_TLS_VERIFY: 'false' })!.tls.verify, false);
    assert.equal(elasticsearchConfigFromEnv({ ELASTICSEARCH_HOSTS: 'https://es:9200', ELASTICSEARCH_TLS_VERIFY: 'true' })!.tls.verify, true);
  });

  const bad: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
    ['bad URL in the list', { ELASTICSEARCH_HOSTS: 'http://exa mple:9200' }, /^ELASTICSEARCH_HOSTS: not a valid URL \(got "http:\/\/exa mple:9200"\)$/],
    ['bad scheme', { ELASTICSEARCH_HOSTS: 'ftp://es:9200' }, /^ELASTICSEARCH_HOSTS: scheme must be http or https \(got "ftp:\/\/es:9200"\)$/],
    ['port out of range in a URL', { ELASTICSEARCH_HOSTS: 'http://es:99999' }, /^ELASTICSEARCH_HOSTS: port must be 1-65535 \(got "http:\/\/es:99999"\)$/],
    ['port 0 in a URL', { ELASTICSEARCH_HOSTS: 'es:0' }, /^ELASTICSEARCH_HOSTS: port must be 1-65535 \(got "es:0"\)$/],
    ['empty list entry', { ELASTICSEARCH_HOSTS: 'http://a:9200,,http://b:9200' }, /^ELASTICSEARCH_HOSTS: empty entry in the list/],
    [
      'password in a bad URL is masked',
      { ELASTICSEARCH_HOSTS: 'ftp://elastic:hunter2@es:9200' },
      /^ELASTICSEARCH_HOSTS: scheme must be http or https \(got "ftp:\/\/elastic:\*\*\*@es:9200"\)$/,
    ],
    [
      'ELASTICSEARCH_PORT out of range',
      { ELASTICSEARCH_HOST: 'es.example', ELASTICSEARCH_PORT: '92000' },
      /^ELASTICSEARCH_PORT: port must be 1-65535 \(got "92000"\)$/,
    ],
    [
      'ELASTICSEARCH_PORT not a number',
      { ELASTICSEARCH_HOST: 'es.example', ELASTICSEARCH_PORT: 'http' },
      /^ELASTICSEARCH_PORT: port must be 1-65535 \(got "http"\)$/,
    ],
    [
      'FLUENT_ELASTICSEARCH_PORT out of range',
      { FLUENT_ELASTICSEARCH_HOST: 'es.example', FLUENT_ELASTICSEARCH_PORT: '0' },
      /^FLUENT_ELASTICSEARCH_PORT: port must be 1-65535 \(got "0"\)$/,
    ],
    [
      'host with a scheme',
      { ELASTICSEARCH_HOST: 'http://es', ELASTICSEARCH_PORT: '9200' },
      /^ELASTICSEARCH_HOST: a host name or address without scheme or port \(got "http:\/\/es"\); put URLs in ELASTICSEARCH_HOSTS$/,
    ],
    ['bad scheme variable', { ELASTICSEARCH_HOST: 'es', ELASTICSEARCH_SCHEME: 'ftp' }, /^ELASTICSEARCH_SCHEME: must be http or https \(got "ftp"\)$/],
    [
      'missing CA file',
      { ELASTICSEARCH_HOSTS: 'https://es:9200', ELASTICSEARCH_CA_FILE: '/nonexistent/ca.pem' },
      /^ELASTICSEARCH_CA_FILE: file does not exist \(got "\/nonexistent\/ca.pem"\)$/,
    ],
    ['CA file that is a directory', { ELASTICSEARCH_HOSTS: 'https://es:9200', ELASTICSEARCH_CA_FILE: dir }, /^ELASTICSEARCH_CA_FILE: not a file/],
    ['CA file that is not PEM', { ELASTICSEARCH_HOSTS: 'https://es:9200', ELASTICSEARCH_CA_FILE: notPem }, /^ELASTICSEARCH_CA_FILE: not a PEM certificate/],
    [
      'TLS verify neither true nor false',
      { ELASTICSEARCH_HOSTS: 'https://es:9200', ELASTICSEARCH_TLS_VERIFY: 'maybe' },
      /^ELASTICSEARCH_TLS_VERIFY: true or false \(got "maybe"\)$/,
    ],
    [
      'username without password',
      { ELASTICSEARCH_HOST: 'es', ELASTICSEARCH_USERNAME: 'elastic' },
      /^ELASTICSEARCH_PASSWORD: missing \(ELASTICSEARCH_USERNAME is "elastic"\)$/,
    ],
    [
      'password without username',
      { ELASTICSEARCH_HOST: 'es', ELASTICSEARCH_PASSWORD: 'pw' },
      /^ELASTICSEARCH_USERNAME: missing \(ELASTICSEARCH_PASSWORD is set\)$/,
    ],
    [
      'API key and password',
      { ELASTICSEARCH_HOST: 'es', ELASTICSEARCH_API_KEY: 'k', ELASTICSEARCH_USERNAME: 'u', ELASTICSEARCH_PASSWORD: 'p' },
      /^ELASTICSEARCH_API_KEY: give either an API key or ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD, not both$/,
    ],
  ];
  for (const [name, env, message] of bad) {
    it(`rejects ${name} with a message naming the variable and the value`, () => fails(() => elasticsearchConfigFromEnv(env), message));
  }
});

describe('Elasticsearch configuration from the file', () => {
  it('the schema is strict and documents defaults', () => {
    const parsed = elasticsearchSinkConfigSchema.parse({ hosts: ['http://es:9200'] });
    assert.equal(parsed.index, 'logstash');
    assert.equal(parsed.deadLetterIndex, 'logferry-deadletter');
    assert.equal(parsed.installTemplate, true);
    assert.equal(elasticsearchSinkConfigSchema.safeParse({ hosts: ['http://es:9200'], bulkMaxByte: 1 }).success, false);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['an unknown key', { hosts: ['http://es:9200'], bulkMaxByte: 10 }, /^output\.elasticsearch: unknown key "bulkMaxByte"$/],
    ['an unknown nested key', { hosts: ['http://es:9200'], tls: { verfy: false } }, /^output\.elasticsearch\.tls: unknown key "verfy"$/],
    ['a bad URL', { hosts: ['ftp://es:9200'] }, /^output\.elasticsearch\.hosts\[0\]: scheme must be http or https \(got "ftp:\/\/es:9200"\)$/],
    [
      'a port out of range',
      { hosts: ['http://a:9200', 'http://b:70000'] },
      /^output\.elasticsearch\.hosts\[1\]: port must be 1-65535 \(got "http:\/\/b:70000"\)$/,
    ],
    ['a bad index name', { hosts: ['http://es:9200'], index: 'Logs' }, /^output\.elasticsearch\.index: an index name.* \(got "Logs"\)$/],
    ['a concurrency of 0', { hosts: ['http://es:9200'], concurrency: 0 }, /^output\.elasticsearch\.concurrency: .* \(got 0\)$/],
    [
      'a missing CA file',
      { hosts: ['https://es:9200'], tls: { caFile: '/nope/ca.pem' } },
      /^output\.elasticsearch\.tls\.caFile: file does not exist \(got "\/nope\/ca.pem"\)$/,
    ],
    [
      'username without password',
      { hosts: ['http://es:9200'], auth: { username: 'elastic' } },
      /^output\.elasticsearch\.auth\.password: missing \(output\.elasticsearch\.auth\.username is "elastic"\)$/,
    ],
  ];
  for (const [name, section, message] of bad) {
    it(`rejects ${name}, naming the key`, () => fails(() => resolveElasticsearchConfig(section as never, {}), message));
  }

  it('a section without hosts and no host in the environment: no Elasticsearch', () => {
    assert.equal(resolveElasticsearchConfig({ gzip: false }, {}), undefined);
  });
});

describe('file and environment together: the environment wins for what it sets', () => {
  const file = {
    hosts: ['https://file-es:9200'],
    auth: { apiKey: 'file-key' },
    tls: { caFile, verify: true },
    gzip: false,
    index: 'k8s',
  };

  it('hosts, credentials and TLS from the environment replace the file; the rest stays', () => {
    const config = resolveElasticsearchConfig(file, {
      ELASTICSEARCH_HOSTS: 'https://env-es:9200',
      ELASTICSEARCH_USERNAME: 'u',
      ELASTICSEARCH_PASSWORD: 'p',
      ELASTICSEARCH_TLS_VERIFY: 'false',
    })!;
    assert.deepEqual(
      config.hosts.map((h) => h.hostname),
      ['env-es'],
    );
    assert.deepEqual(config.auth, { kind: 'basic', username: 'u', password: 'p' }, 'the file API key is not mixed in');
    assert.equal(config.tls.verify, false);
    assert.equal(config.tls.caFile, caFile, 'the file CA stays: the environment did not name one');
    assert.equal(config.gzip, false);
    assert.equal(config.index, 'k8s');
  });

  it('nothing in the environment: the file as written', () => {
    const config = resolveElasticsearchConfig(file, {})!;
    assert.deepEqual(
      config.hosts.map((h) => h.href),
      ['https://file-es:9200/'],
    );
    assert.deepEqual(config.auth, { kind: 'apiKey', apiKey: 'file-key' });
    assert.equal(config.tls.verify, true);
  });

  it('a bad file value is reported even when the environment replaces it', () => {
    fails(() => resolveElasticsearchConfig({ hosts: ['ftp://x'] }, { ELASTICSEARCH_HOSTS: 'http://ok:9200' }), /^output\.elasticsearch\.hosts\[0\]: scheme/);
  });
});
