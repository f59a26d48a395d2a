/**
 * Values only the parsers could judge are checked by the configuration too (issue 13, item 7): a time
 * zone Intl does not know, or a multiline expression that does not compile, is exit 2 naming the key —
 * from `logferry validate`, and from `logferry run` before anything is read — instead of every file being
 * skipped with a warning and exit 0. Keys that were accepted but never applied are dropped with a warning.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runAgent } from '../helpers/agent-process.js';

describe('configuration: time zones, multiline expressions, deprecated keys', () => {
  let dir: string;
  let n = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-cfgval-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (text: string) => {
    const path = join(dir, `c${n++}.yaml`);
    writeFileSync(path, 'server:\n  address: ""\n' + text);
    return path;
  };

  const bad: Array<{ name: string; yaml: string; expect: RegExp }> = [
    {
      name: 'unknown time zone',
      yaml: 'inputs:\n  components:\n    timezone: Mars/Olympus\n',
      expect: /: inputs\.components\.timezone: "Mars\/Olympus" is not a time zone name this runtime knows/,
    },
    {
      name: 'multiline start that does not compile',
      yaml: 'inputs:\n  containers:\n    multiline:\n      start: "(("\n',
      expect: /: inputs\.containers\.multiline\.start: "\(\(" is not a valid regular expression/,
    },
    {
      name: 'multiline continue of a file input that does not compile',
      yaml: 'inputs:\n  files:\n    - paths: [/var/log/app.log]\n      multiline:\n        continue: "[a-"\n',
      expect: /: inputs\.files\[0\]\.multiline\.continue: "\[a-" is not a valid regular expression/,
    },
    {
      name: 'multiline with bounds but no rule',
      yaml: 'inputs:\n  containers:\n    multiline:\n      maxLines: 10\n',
      expect: /: inputs\.containers\.multiline: give `start`, `continue` or `preset`/,
    },
  ];

  for (const c of bad) {
    it(`validate: ${c.name} → exit 2 naming the key`, async () => {
      const result = await runAgent({ args: ['validate', '--config', file(c.yaml)] });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, c.expect);
      assert.doesNotMatch(result.stdout, /valid/);
    });

    it(`run: ${c.name} → exit 2 naming the key, nothing read or written`, async () => {
      const root = join(dir, `tree${n}`);
      mkdirSync(join(root, 'var', 'log', 'containers'), { recursive: true });
      writeFileSync(join(root, 'var', 'log', 'kubelet.log'), 'I0102 03:04:05.678901    1234 main.go:1] hello\n');
      const dataDir = join(dir, `data${n}`);
      const result = await runAgent({ args: ['run', '--root', root, '--data-dir', dataDir, '--oneshot', '--config', file(c.yaml)] });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, c.expect);
      assert.equal(existsSync(dataDir), false, 'no state was created');
    });
  }

  it('good values pass: an IANA zone, a preset with bounds, a valid expression', async () => {
    const yaml =
      'inputs:\n  components:\n    timezone: Europe/Berlin\n  containers:\n    multiline:\n      preset: java\n      maxLines: 50\n' +
      '  files:\n    - paths: [/var/log/app.log]\n      multiline:\n        start: "^\\\\d{4}-"\n';
    const result = await runAgent({ args: ['validate', '--config', file(yaml)] });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
  });

  it('keys that were never applied: one warning each, still valid', async () => {
    const path = file('inputs:\n  containers:\n    jsonKey: fields\npipeline:\n  maxRotatedFilesPerContainer: 3\n');
    const result = await runAgent({ args: ['validate', '--config', path] });
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, result.stderr);
    assert.match(lines[0], new RegExp(`^logferry: warning: ${path}: pipeline\\.maxRotatedFilesPerContainer is ignored and will be removed`));
    assert.match(lines[1], new RegExp(`^logferry: warning: ${path}: inputs\\.containers\\.jsonKey is ignored and will be removed`));
  });
});
