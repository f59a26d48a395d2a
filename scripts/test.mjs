#!/usr/bin/env node
// `npm test`: build, start one real Elasticsearch for the whole run, run every test file with node's
// test runner, stop Elasticsearch. The runner's summary is the last thing printed.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// A clean build: a test file deleted or renamed in src/ must not keep running from an old dist/.
rmSync(join(root, 'dist'), { recursive: true, force: true });
const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}
const filter = process.argv.slice(2);
let files = [...findTests(join(root, 'dist', 'src')), ...findTests(join(root, 'dist', 'test'))].sort();
if (filter.length > 0) files = files.filter((f) => filter.some((pattern) => relative(root, f).includes(pattern)));

const { provideTestElasticsearch } = await import(join(root, 'dist', 'test', 'helpers', 'elasticsearch-harness.js'));
const es = await provideTestElasticsearch({ needed: files.some((f) => f.includes('integration')) });

const child = spawn(process.execPath, ['--test', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, ...es.env },
});
const code = await new Promise((resolve) => child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0))));
await es.stop();
process.exit(code);
