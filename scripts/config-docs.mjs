#!/usr/bin/env node
// `npm run docs:config`: (re)write docs/configuration.md from the configuration schema — every key with its
// type, default, an example and its description (test/docs/config-reference.ts). Runs on the build in dist/.
//   npm run docs:config            write the file
//   npm run docs:config -- --check exit 1 when the file is not what the schema gives (what the test checks)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { configSchema } = await import(new URL('../dist/src/config/load.js', import.meta.url).href);
const { configurationMarkdown } = await import(new URL('../dist/test/docs/config-reference.js', import.meta.url).href);
const { readSchemaComments } = await import(new URL('../dist/test/docs/schema-comments.js', import.meta.url).href);

const target = `${root}docs/configuration.md`;
const markdown = configurationMarkdown(configSchema, readSchemaComments(root));
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing: not up to date either
  }
  if (current !== markdown) {
    process.stderr.write('docs/configuration.md is not what the schema gives: run `npm run docs:config`\n');
    process.exit(1);
  }
} else {
  writeFileSync(target, markdown);
  process.stderr.write(`wrote ${target}\n`);
}
