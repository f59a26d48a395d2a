import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { expandGlob, globBase, globMatch } from './glob.js';

describe('glob', () => {
  it('expands *, ? and ** and finds the watch base', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-glob-'));
    try {
      mkdirSync(join(dir, 'a/b'), { recursive: true });
      for (const f of ['x.log', 'y.log', 'z.txt', 'a/q.log', 'a/b/r.log']) writeFileSync(join(dir, f), '');
      assert.deepEqual(await expandGlob(join(dir, '*.log')), [join(dir, 'x.log'), join(dir, 'y.log')]);
      assert.deepEqual(await expandGlob(join(dir, '?.txt')), [join(dir, 'z.txt')]);
      assert.deepEqual(await expandGlob(join(dir, '**/*.log')), [join(dir, 'a/b/r.log'), join(dir, 'a/q.log'), join(dir, 'x.log'), join(dir, 'y.log')]);
      assert.equal(globBase(join(dir, 'a/*/r.log')), join(dir, 'a'));
      assert.ok(globMatch('/var/log/**/*.log', '/var/log/pods/x/0.log'));
      assert.ok(!globMatch('/var/log/*.log', '/var/log/pods/0.log'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
