/**
 * Issue 14: every `logferry search` / `logferry tail` example in the README returns records when run as
 * written against what the demo stores (`npm start`): the demo's generator, the agent with the demo's pod
 * labels, a local store in ./logferry-data of a temporary directory. A README example that stops matching
 * the demo (a field the demo's records lack, a selector on labels nobody sets) fails here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startAgent } from '../../src/agent/agent.js';
import { createLogger } from '../../src/agent/logger.js';
import { loadConfig } from '../../src/config/load.js';
import { DemoNode } from '../../src/demo/generator.js';
import { demoLabels } from '../../src/demo/labels.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/logferry.js');

/** Words of a shell command line: '...' and "..." quoting, backslash escapes, a trailing # comment dropped. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'" || c === '"') {
      const close = line.indexOf(c, i + 1);
      if (close < 0) throw new Error(`unclosed ${c} in ${line}`);
      word = (word ?? '') + line.slice(i + 1, close);
      i = close;
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '#' && word === undefined) {
      break;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The README's `logferry search ...` and `logferry tail ...` lines, from its fenced code blocks. */
export function readmeQueryExamples(markdown: string): string[] {
  const examples: string[] = [];
  let inBlock = false;
  for (const line of markdown.split('\n')) {
    if (line.trimStart().startsWith('```')) inBlock = !inBlock;
    else if (inBlock && /^\s*(npx )?logferry (search|tail)\b/.test(line)) examples.push(line.trim());
  }
  return examples;
}

/** Nothing from the environment that would send the commands to an Elasticsearch or elsewhere. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(ELASTICSEARCH_|FLUENT_ELASTICSEARCH_|KUBERNETES_SERVICE_|LOGFERRY_|NO_COLOR)/.test(key)) env[key] = value;
  }
  return env;
}

describe('README examples against the demo', () => {
  let cwd: string;
  const examples = readmeQueryExamples(readFileSync(join(ROOT, 'README.md'), 'utf8'));

  before(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'logferry-readme-'));
    const root = join(cwd, 'node');
    mkdirSync(root);
    // What `npm start` stores first: the demo writes 20 rounds of 5 lines per container before the agent starts.
    const node = new DemoNode(root);
    node.create();
    for (let i = 0; i < 20; i++) node.tick(5);
    const env = cleanEnv();
    const config = await loadConfig({ env, overrides: { dataDir: join(cwd, 'logferry-data') } });
    const agent = await startAgent(
      { ...config, server: { address: '' } },
      { root, oneshot: true, extraTransforms: [demoLabels()], logger: createLogger('warn'), writeSummary: () => undefined },
    );
    assert.equal(await agent.done, 0, 'the demo tree was stored');
  });
  after(() => rmSync(cwd, { recursive: true, force: true }));

  it('finds the examples (search with a query, a selector, tail)', () => {
    assert.ok(examples.length >= 3, examples.join('\n'));
    assert.ok(
      examples.some((e) => / -l /.test(e)),
      'a label selector example',
    );
    assert.ok(
      examples.some((e) => e.startsWith('logferry tail')),
      'a tail example',
    );
  });

  it('every example returns records from the demo, run as written', () => {
    for (const example of examples) {
      const args = shellWords(example).slice(example.startsWith('npx ') ? 2 : 1);
      // tail -f prints the latest records first and then waits: the first part is what is checked here.
      const runArgs = args[0] === 'tail' ? args.filter((a) => a !== '-f' && a !== '--follow') : args;
      const result = spawnSync(process.execPath, [BIN, ...runArgs], { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 30_000 });
      assert.equal(result.status, 0, `${example}: ${result.stderr}`);
      const lines = result.stdout.split('\n').filter((l) => l !== '');
      assert.ok(lines.length >= 1, `${example} returned no records (stderr: ${result.stderr})`);
      if (args.includes('json')) for (const l of lines) assert.ok(JSON.parse(l)._id, example);
    }
  });
});
