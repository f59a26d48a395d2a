import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CheckpointError, CheckpointStore, type CheckpointEntry } from './store.js';

function entry(key: string, offset: number): CheckpointEntry {
  return { key, path: `/var/log/pods/x/${key}.log`, dev: 1, ino: 2, fingerprint: 'f', offset, idPrefix: 'p-', updatedAt: 0 };
}

describe('CheckpointStore', () => {
  it('persists atomically and reloads, with a format version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-ckpt-'));
    try {
      const store = new CheckpointStore(dir);
      store.set(entry('a', 10));
      store.update('a', 50);
      store.update('a', 40); // never backwards
      store.flush();
      const saved = JSON.parse(readFileSync(join(dir, 'checkpoints.json'), 'utf8'));
      assert.equal(saved.version, 1);
      const again = new CheckpointStore(dir);
      assert.equal(again.get('a')?.offset, 50);
      again.forget('a');
      again.flush();
      assert.equal(new CheckpointStore(dir).get('a'), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a corrupt or future-format file with an actionable message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-ckpt-'));
    try {
      writeFileSync(join(dir, 'checkpoints.json'), '{"version":1,"entr');
      assert.throws(
        () => new CheckpointStore(dir),
        (e: unknown) => e instanceof CheckpointError && /not valid JSON/.test((e as Error).message),
      );
      writeFileSync(join(dir, 'checkpoints.json'), '{"version":9,"entries":[]}');
      assert.throws(() => new CheckpointStore(dir), /unsupported format version 9/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('replace resets a position after truncation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-ckpt-'));
    try {
      const store = new CheckpointStore(dir);
      store.set(entry('a', 100));
      store.set(entry('a', 0));
      assert.equal(store.get('a')?.offset, 100);
      store.set({ ...entry('a', 0), generation: 1 }, true);
      assert.equal(store.get('a')?.offset, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
