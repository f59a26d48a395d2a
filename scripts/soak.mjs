#!/usr/bin/env node
// `npm run soak -- [--seed N] [--minutes M] [--keep]`: a seeded combined-fault soak (test/soak/) against a
// real Elasticsearch (LOGFERRY_TEST_ES_URL, or a private one started for the run) and the fake Kubernetes
// API server. Prints the seed first (random unless given: the same seed replays the same schedule), builds
// like `npm test` does, runs dist/test/soak/cli.js, and exits non-zero when anything was lost, duplicated,
// cut or shipped without metadata.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
// The seed is fixed here, before building, so it is the first thing printed even when the build fails.
let seed = args.find((a) => a.startsWith('--seed='))?.slice('--seed='.length);
if (seed === undefined && args.includes('--seed')) seed = args[args.indexOf('--seed') + 1];
if (seed === undefined) {
  seed = String(Math.floor(Math.random() * 2 ** 31));
  args.push('--seed', seed);
}
console.log(`soak seed: ${seed}`);

const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const child = spawn(process.execPath, [join(root, 'dist', 'test', 'soak', 'cli.js'), ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, LOGFERRY_SOAK_SEED_PRINTED: '1' },
});
// Ctrl-C reaches the child too (same process group); it stops its Elasticsearch and exits.
process.on('SIGINT', () => undefined);
const code = await new Promise((resolve) => child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0))));
process.exit(code);
