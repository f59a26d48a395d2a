/**
 * Issue 14: `npm run es` prints plain text — no raw escape codes in a CI log or a file. Maven 3.8 writes
 * ESC[0m even with -B, so its output no longer reaches the terminal directly (ensureJars quiet; a failure's
 * errors come back in the message), and every line scripts/es.mjs prints goes through plainText().
 * No second Elasticsearch is started: the script is run against a port that is taken.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const SCRIPTS = fileURLToPath(new URL('../../../scripts/', import.meta.url));

async function esPrint(): Promise<{ plainText(text: string): string }> {
  return (await import(new URL('../../../scripts/es-print.mjs', import.meta.url).href)) as { plainText(text: string): string };
}

describe('npm run es: no raw escape codes', () => {
  it('plainText removes what Maven writes in batch mode and any other escape sequence, keeping the words', async (t) => {
    const { plainText } = await esPrint();
    assert.equal(
      plainText('\x1b[0m\x1b[0m[ERROR] Unknown lifecycle phase "x"\n\x1b[1mApache Maven\x1b[m\ttab'),
      '[ERROR] Unknown lifecycle phase "x"\nApache Maven\ttab',
    );
    assert.equal(plainText('a\x1b]0;title\x07b\x1b]8;;http://x\x1b\\c\rd\x9b2J'), 'abcd2J');
    if (spawnSync('mvn', ['--version']).status !== 0) return t.skip('mvn is not installed: the real Maven output is not checked');
    // The real thing: Maven 3.8 -q -B on a pom that fails, offline.
    const dir = mkdtempSync(join(tmpdir(), 'lf-mvn-'));
    try {
      writeFileSync(
        join(dir, 'pom.xml'),
        '<project><modelVersion>4.0.0</modelVersion><groupId>x</groupId><artifactId>y</artifactId><version>1</version><packaging>pom</packaging></project>',
      );
      const maven = spawnSync('mvn', ['-o', '-q', '-B', '-f', join(dir, 'pom.xml'), 'nosuchphase'], { encoding: 'utf8', timeout: 60_000 });
      const output = maven.stdout + maven.stderr;
      assert.match(output, /Unknown lifecycle phase/);
      assert.doesNotMatch(plainText(output), /\x1b/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("scripts/es.mjs keeps Maven's output off the terminal and prints only through plainText", () => {
    const source = readFileSync(join(SCRIPTS, 'es.mjs'), 'utf8');
    assert.doesNotMatch(source, /quiet:\s*false/, "Maven's output inherited: raw escape codes");
    assert.doesNotMatch(source, /process\.std(err|out)\.write/, 'every message goes through say() (plain text)');
  });

  it('run with a taken port: a one-line reason, exit 1, no escape code', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const result = spawnSync(process.execPath, [join(SCRIPTS, 'es.mjs'), '--port', String(port), '--data-dir', join(tmpdir(), `lf-es-${process.pid}`)], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^npm run es: (cannot start Elasticsearch on 127\\.0\\.0\\.1:${port}: EADDRINUSE|.*not installed.*)$`, 'm'));
      assert.doesNotMatch(result.stdout + result.stderr, /\x1b/);
    } finally {
      server.close();
    }
  });
});
