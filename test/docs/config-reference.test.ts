/**
 * docs/configuration.md is what the schema gives: a key added, removed or with a new default and the
 * file not regenerated (`npm run docs:config`) fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { z } from 'zod/v3';
import { configSchema } from '../../src/config/load.js';
import { configurationMarkdown, describeKeys } from './config-reference.js';
import { indexComments, readSchemaComments } from './schema-comments.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('configuration reference', () => {
  it('docs/configuration.md is up to date with the schema (else: npm run docs:config)', () => {
    const expected = configurationMarkdown(configSchema, readSchemaComments(ROOT));
    const actual = readFileSync(`${ROOT}docs/configuration.md`, 'utf8');
    assert.ok(actual === expected, 'docs/configuration.md differs from what the schema gives: run `npm run docs:config`');
  });

  it('lists every key, nested ones and list entries included, with type, default, example and comment', () => {
    const keys = describeKeys(configSchema, readSchemaComments(ROOT));
    const doc = readFileSync(`${ROOT}docs/configuration.md`, 'utf8');
    for (const key of [
      'nodeName',
      'pipeline.maxInflightBytes',
      'inputs.files[].paths',
      'inputs.containers.multiline.maxLines',
      'output.elasticsearch.tls.verify',
      'kubernetes.backoff.maxMs',
    ]) {
      assert.ok(
        keys.some((k) => k.key === key),
        key,
      );
      assert.ok(doc.includes(`| \`${key}\` |`), `${key} in docs/configuration.md`);
    }
    const inflight = keys.find((k) => k.key === 'pipeline.maxInflightBytes');
    assert.deepEqual(inflight, {
      key: 'pipeline.maxInflightBytes',
      type: 'integer ≥ 65536',
      default: '8388608',
      example: '16777216',
      description: 'bound on bytes read but not yet acknowledged by the sink (backpressure)',
    });
  });

  it('a new key shows up (so a stale file fails the test above), described by .describe() or its JSDoc comment', () => {
    const source = `const s = z.strictObject({\n  /** how many widgets */\n  widgets: z.number().int().min(1).default(3),\n  mode: z.enum(['a', 'b']).optional(),\n});`;
    const schema = z.strictObject({ widgets: z.number().int().min(1).default(3), mode: z.enum(['a', 'b']).optional().describe('which mode') });
    assert.deepEqual(describeKeys(schema, indexComments([{ name: 'x.ts', text: source }])), [
      { key: 'widgets', type: 'integer ≥ 1', default: '3', example: '6', description: 'how many widgets' },
      { key: 'mode', type: '"a" | "b"', default: undefined, example: 'a', description: 'which mode' },
    ]);
    assert.match(configurationMarkdown(schema, new Map()), /^\| `mode` \| "a" \\\| "b" \| — \| `a` \| which mode \|$/m);
  });
});
