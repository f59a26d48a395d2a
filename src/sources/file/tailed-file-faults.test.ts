import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ackRecord } from '../../agent/acks.js';
import { metadataFromIdentity } from '../../event/metadata.js';
import { RecordFlag, type LogRecord } from '../../event/record.js';
import { createFileParser, type FileParser } from '../../parsers/file-parser.js';
import { identify, identityKey } from './identity.js';
import { ReadBuffer, TailedFile, type ChunkSink } from './tailed-file.js';

const dir = mkdtempSync(join(tmpdir(), 'logferry-tailed-faults-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A real plain-text parser that throws (a bug on some input) when a line contains `BOOM`. */
function throwingParser(inner: FileParser): FileParser {
  return {
    push(buf, start, end, offset, out) {
      if (buf.subarray(start, end).includes('BOOM')) throw new RangeError('Invalid time value');
      inner.push(buf, start, end, offset, out);
    },
    pendingOffset: () => inner.pendingOffset(),
    flushIdle: (now, out, quiet) => inner.flushIdle(now, out, quiet),
    flushAll: (out) => inner.flushAll(out),
    get format() {
      return inner.format;
    },
    counters: inner.counters,
  };
}

async function tailed(name: string, content: string) {
  const path = join(dir, name);
  writeFileSync(path, content);
  const handle = await open(path, 'r');
  const info = await handle.stat();
  const fingerprint = (await identify(handle, info.dev, info.ino, info.size))!;
  const context = { path, pathJson: JSON.stringify(path), idPrefix: 'f:', meta: metadataFromIdentity({ nodeName: 'n' }) };
  // multiline off: records in line order (the default holds each line until the next shows it is not a trace)
  const parser = throwingParser(createFileParser({ format: 'plain', file: context, multiline: 'off' }));
  const commits: number[] = [];
  const file = new TailedFile(handle, path, path, 'files', fingerprint, identityKey(fingerprint), context, parser, 0, (_f, position) => commits.push(position));
  file.knownSize = info.size;
  const records: LogRecord[] = [];
  const failures: Array<[string, number | undefined]> = [];
  // Stores and acknowledges at once, like a sink that is up.
  const sink: ChunkSink = {
    emit: (out) => {
      records.push(...out);
      for (const record of out) ackRecord(record);
    },
    componentFailed: (component, _error, site) => failures.push([component, site.offset]),
  };
  return { file, records, commits, failures, sink, size: info.size };
}

describe('TailedFile: a parser that throws', () => {
  it('dead-letters the raw line, keeps every line after it, and commits to the end of the chunk', async () => {
    const { file, records, commits, failures, sink, size } = await tailed('parser-throws.log', 'one\ntwo BOOM\nthree\n');
    const scratch = new ReadBuffer();
    assert.equal(await file.readChunk(65536, 1 << 20, sink, scratch), size, 'the read is not lost to the throw');
    assert.deepEqual(
      records.map((r) => [r.offset, r.message, (r.flags & RecordFlag.COMPONENT_ERROR) !== 0]),
      [
        [0, 'one', false],
        [4, 'two BOOM', true],
        [13, 'three', false],
      ],
    );
    const dead = records[1];
    assert.equal(dead.id, 'f:4', 'the id a record at that offset always has: a replay stays one document');
    assert.deepEqual(dead.extra, { error: { type: 'component_error', message: 'parser:plain threw: RangeError: Invalid time value' } });
    assert.deepEqual(failures, [['parser:plain', 4]]);
    assert.deepEqual(commits, [size], 'the batch is sealed and settles: the checkpoint moves to the end');
    assert.equal(file.acks.outstanding, 0);
    await file.handle.close();
  });

  it('a throw while flushing the last incomplete line still seals the batch', async () => {
    const { file, records, commits, sink, size } = await tailed('parser-throws-flush.log', 'one\nlast BOOM');
    const scratch = new ReadBuffer();
    await file.readChunk(65536, 1 << 20, sink, scratch);
    assert.deepEqual(commits, [4], 'the incomplete line is not committed yet');
    file.flushAll(sink, true);
    assert.deepEqual(
      records.map((r) => [r.message, (r.flags & RecordFlag.COMPONENT_ERROR) !== 0]),
      [
        ['one', false],
        ['last BOOM', true],
      ],
    );
    assert.deepEqual(commits, [4, size]);
    await file.handle.close();
  });
});

describe('TailedFile: a sink that throws', () => {
  it('the batch is sealed anyway: once its records are acknowledged, the checkpoint moves', async () => {
    const { file, commits, size } = await tailed('sink-throws.log', 'a\nb\n');
    const held: LogRecord[] = [];
    const throwing: ChunkSink = {
      emit: (out) => {
        held.push(...out);
        throw new Error('sink bug');
      },
    };
    await assert.rejects(file.readChunk(65536, 1 << 20, throwing, new ReadBuffer()), /sink bug/);
    assert.equal(held.length, 2);
    for (const record of held) ackRecord(record);
    assert.deepEqual(commits, [size], 'an unsealed batch would never settle');
    await file.handle.close();
  });
});
