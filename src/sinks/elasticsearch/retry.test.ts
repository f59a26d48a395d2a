/** Delays and verdicts: what is retried, what is final, and how long the sink waits. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs, bulkAllCreated, itemVerdict, parseBulkItems, parseRetryAfter, requestVerdict, retryDelayMs } from './retry.js';

const policy = { initialDelayMs: 200, maxDelayMs: 30_000 };

describe('retry delays', () => {
  it('exponential with equal jitter, capped at 30 s', () => {
    assert.equal(
      backoffMs(1, policy, () => 0),
      100,
    );
    assert.equal(
      backoffMs(1, policy, () => 1),
      200,
    );
    assert.equal(
      backoffMs(4, policy, () => 0),
      800,
    );
    assert.equal(
      backoffMs(4, policy, () => 1),
      1600,
    );
    assert.equal(
      backoffMs(50, policy, () => 1),
      30_000,
    );
    assert.equal(
      backoffMs(50, policy, () => 0),
      15_000,
    );
    for (let attempt = 1; attempt < 40; attempt++) {
      const delay = backoffMs(attempt, policy);
      assert.ok(delay >= 100 && delay <= 30_000, `${attempt}: ${delay}`);
    }
  });

  it('Retry-After in seconds or as an HTTP date wins, within [initial delay, cap]', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(['1.5']), 1500);
    assert.equal(parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())! > 8000, true);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(retryDelayMs(1, policy, '7'), 7000);
    assert.equal(retryDelayMs(1, policy, '3600'), 30_000, 'capped');
    assert.equal(retryDelayMs(1, policy, '0'), 200, 'never a hot loop');
    assert.ok(retryDelayMs(3, policy, undefined) <= 800);
  });
});

describe('verdicts', () => {
  it('items: stored, duplicate, retried, rejected', () => {
    assert.equal(itemVerdict(201), 'stored');
    assert.equal(itemVerdict(409, 'version_conflict_engine_exception'), 'duplicate');
    for (const status of [429, 500, 502, 503, 504, 408]) assert.equal(itemVerdict(status), 'retry', String(status));
    assert.equal(itemVerdict(403, 'cluster_block_exception'), 'retry', 'a read-only index lifts; dead-lettering would fail the same way');
    assert.equal(itemVerdict(404, 'index_not_found_exception'), 'retry');
    assert.equal(itemVerdict(400, 'mapper_parsing_exception'), 'reject');
    assert.equal(itemVerdict(400, 'illegal_argument_exception'), 'reject');
    assert.equal(itemVerdict(413), 'reject');
  });

  it('whole requests', () => {
    assert.equal(requestVerdict(200), 'items');
    assert.equal(requestVerdict(413), 'split');
    assert.equal(requestVerdict(400), 'split');
    for (const status of [429, 500, 502, 503, 504, 401, 403, 404]) assert.equal(requestVerdict(status), 'retry', String(status));
  });
});

describe('bulk answers', () => {
  it('all created is read from the first bytes', () => {
    assert.equal(bulkAllCreated(Buffer.from('{"errors":false,"items":[{"create":{"status":201}}]}')), true);
    assert.equal(bulkAllCreated(Buffer.from('{"took":3,"errors":false,"items":[]}')), true);
    assert.equal(bulkAllCreated(Buffer.from('{"errors":true,"items":[{"create":{"status":201,"error":"\\"errors\\":false"}}]}')), false);
  });

  it('items in order, with the cause in the reason', () => {
    const items = parseBulkItems(
      Buffer.from(
        JSON.stringify({
          errors: true,
          items: [
            { create: { status: 201 } },
            { create: { status: 409, error: { type: 'version_conflict_engine_exception', reason: 'exists' } } },
            {
              create: {
                status: 400,
                error: {
                  type: 'mapper_parsing_exception',
                  reason: 'failed to parse field [json.user] of type [object]',
                  caused_by: { type: 'illegal_argument_exception', reason: 'object expected' },
                },
              },
            },
            { index: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } },
          ],
        }),
      ),
    )!;
    assert.deepEqual(
      items.map((i) => i.status),
      [201, 409, 400, 429],
    );
    assert.equal(items[2].type, 'mapper_parsing_exception');
    assert.equal(items[2].reason, 'failed to parse field [json.user] of type [object] (caused by illegal_argument_exception: object expected)');
    assert.equal(parseBulkItems(Buffer.from('<html>proxy error</html>')), undefined);
    assert.equal(parseBulkItems(Buffer.from('{"error":"x"}')), undefined);
  });
});
