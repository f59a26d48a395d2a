/**
 * Bad configuration → exit 2 with a message naming the key (or variable) and the value, before any file
 * is read or anything is sent.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runAgent } from '../helpers/agent-process.js';

describe('configuration errors', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-cfg-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<{ name: string; config?: string; env?: Record<string, string>; args?: string[]; expect: RegExp }> = [
    { name: 'unknown key', config: 'pipeline:\n  maxInflightByte: 100\n', expect: /pipeline: unknown key "maxInflightByte"/ },
    { name: 'wrong type', config: 'pipeline:\n  readChunkBytes: lots\n', expect: /pipeline\.readChunkBytes: .*got "lots"/ },
    {
      name: 'bad URL in the file',
      config: 'output:\n  elasticsearch:\n    hosts: ["ftp://es:9200"]\n',
      expect: /output\.elasticsearch\.hosts\[0\]: scheme must be http or https \(got "ftp:\/\/es:9200"\)/,
    },
    { name: 'bad URL in the environment', env: { ELASTICSEARCH_HOSTS: 'http://exa mple:9200' }, expect: /ELASTICSEARCH_HOSTS: not a valid URL/ },
    {
      name: 'port out of range',
      env: { ELASTICSEARCH_HOST: 'es.example', ELASTICSEARCH_PORT: '92000' },
      expect: /ELASTICSEARCH_PORT: port must be 1-65535 \(got "92000"\)/,
    },
    {
      name: 'seed alias port out of range',
      env: { FLUENT_ELASTICSEARCH_HOST: 'es.example', FLUENT_ELASTICSEARCH_PORT: '0' },
      expect: /FLUENT_ELASTICSEARCH_PORT: port must be 1-65535 \(got "0"\)/,
    },
    {
      name: 'missing CA file',
      env: { ELASTICSEARCH_HOSTS: 'https://es:9200', ELASTICSEARCH_CA_FILE: '/nonexistent/ca.pem' },
      expect: /ELASTICSEARCH_CA_FILE: file does not exist \(got "\/nonexistent\/ca.pem"\)/,
    },
    { name: 'not YAML', config: 'pipeline: [unclosed\n', expect: /not valid YAML/ },
    { name: 'bad profile', args: ['--profile', 'laptop'], expect: /--profile: must be "node" or "sidecar" \(got "laptop"\)/ },
  ];

  for (const c of cases) {
    it(`${c.name}: exit 2 and a precise message, nothing read`, async () => {
      const dataDir = join(dir, c.name.replaceAll(' ', '-'));
      const args = ['run', '--root', join(dir, 'no-tree'), '--data-dir', dataDir, '--oneshot', ...(c.args ?? [])];
      if (c.config !== undefined) {
        const file = join(dir, `${c.name.replaceAll(' ', '-')}.yaml`);
        writeFileSync(file, c.config);
        args.push('--config', file);
      }
      const result = await runAgent({ args, env: c.env });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, c.expect);
      assert.throws(() => readdirSync(dataDir), 'no state was created');
    });
  }

  it('validate accepts a good file and rejects a bad one', async () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'server:\n  address: 0.0.0.0:2020\ninputs:\n  containers:\n    readFrom: end\n');
    const ok = await runAgent({ args: ['validate', '--config', good] });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /valid/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'inputs:\n  containers:\n    readFrom: middle\n');
    const rejected = await runAgent({ args: ['validate', '--config', bad] });
    assert.equal(rejected.code, 2);
    assert.match(rejected.stderr, /inputs\.containers\.readFrom: .*got "middle"/);
  });

  it('--help and --version', async () => {
    const help = await runAgent({ args: ['--help'] });
    assert.equal(help.code, 0);
    for (const command of ['run', 'validate', 'search', 'tail', 'demo']) assert.match(help.stdout, new RegExp(`\\b${command}\\b`));
    const version = await runAgent({ args: ['--version'] });
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });
});
