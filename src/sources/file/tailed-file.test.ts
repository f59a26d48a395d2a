import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { LogRecord } from '../../event/record.js';
import { metadataFromIdentity } from '../../event/metadata.js';
import { createFileParser } from '../../parsers/file-parser.js';
import { identify, identityKey } from './identity.js';
import { ReadBuffer, TailedFile } from './tailed-file.js';

const dir = mkdtempSync(join(tmpdir(), 'logferry-tailed-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function openTailed(
  name: string,
  content: string,
): Promise<{ file: TailedFile; path: string; records: LogRecord[]; sink: { emit(records: LogRecord[]): void } }> {
  const path = join(dir, name);
  writeFileSync(path, content);
  const handle = await open(path, 'r');
  const info = await handle.stat();
  const fingerprint = (await identify(handle, info.dev, info.ino, info.size))!;
  const context = { path, pathJson: JSON.stringify(path), idPrefix: 'f:', meta: metadataFromIdentity({ nodeName: 'n' }) };
  // multiline off: these tests are about partial lines (the default holds a complete line until the next one)
  const parser = createFileParser({ format: 'cri', file: context, multiline: 'off' });
  const file = new TailedFile(handle, path, path, 'files', fingerprint, identityKey(fingerprint), context, parser, 0, () => undefined);
  file.knownSize = info.size;
  const records: LogRecord[] = [];
  return { file, path, records, sink: { emit: (out) => records.push(...out) } };
}

const HEAD = 'h'.repeat(16384);
const TAIL = 't'.repeat(5701);
const piece = (tag: 'P' | 'F', text: string) => `2026-12-03T10:00:00.000000001Z stdout ${tag} ${text}\n`;

describe('TailedFile idle release', () => {
  it('a CRI partial whose reader is held back for more than 5 s is not cut: one record, whole', async () => {
    const { file, path, records, sink } = await openTailed('held.log', piece('P', HEAD));
    const scratch = new ReadBuffer();
    assert.ok((await file.readChunk(65536, 1 << 20, sink, scratch)) > 0);
    assert.equal(records.length, 0, 'the first piece waits for the rest');
    // The reader is held (budget spent, or a shutdown) for 10 s while the writer finishes the record.
    appendFileSync(path, piece('F', TAIL));
    file.flushIdle(Date.now() + 10_000, sink);
    assert.equal(records.length, 0, 'a reader that has not seen the end of the file does not release');
    assert.ok((await file.readChunk(65536, 1 << 20, sink, scratch)) > 0);
    assert.deepEqual(
      records.map((r) => [r.offset, r.message.length, r.message === HEAD + TAIL]),
      [[0, HEAD.length + TAIL.length, true]],
    );
    await file.handle.close();
  });

  it('a writer that stopped mid-record: released 5 s after the reader found the end of the file, not before', async () => {
    const { file, records, sink } = await openTailed('stalled.log', piece('P', 'prompt> '));
    const scratch = new ReadBuffer();
    await file.readChunk(65536, 1 << 20, sink, scratch);
    assert.equal(await file.readChunk(65536, 1 << 20, sink, scratch), 0, 'at the end');
    const atEnd = Date.now();
    file.flushIdle(atEnd + 4000, sink);
    assert.equal(records.length, 0);
    file.flushIdle(atEnd + 6000, sink);
    assert.deepEqual(
      records.map((r) => r.message),
      ['prompt> '],
    );
    await file.handle.close();
  });

  it('the end seen once, then the file grew: no release until the reader has caught up again', async () => {
    const { file, path, records, sink } = await openTailed('grew.log', piece('P', 'first '));
    const scratch = new ReadBuffer();
    await file.readChunk(65536, 1 << 20, sink, scratch);
    assert.equal(await file.readChunk(65536, 1 << 20, sink, scratch), 0);
    appendFileSync(path, piece('F', 'second'));
    file.knownSize += 100; // what the tailer's fstat at the end of the file learns
    file.flushIdle(Date.now() + 10_000, sink);
    assert.equal(records.length, 0, 'unread bytes: the writer is not idle');
    await file.readChunk(65536, 1 << 20, sink, scratch);
    assert.deepEqual(
      records.map((r) => r.message),
      ['first second'],
    );
    await file.handle.close();
  });
});
