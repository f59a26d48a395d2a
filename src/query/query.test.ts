import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../cli/errors.js';
import { buildQuery, parseDuration, parseQueryText, parseSelector, parseTime } from './query.js';

describe('query text', () => {
  it('reads words, phrases, prefixes, field:value and exclusions', () => {
    assert.deepEqual(parseQueryText('timeout "connection reset" pay* -healthz -"GET /ready" level:error -namespace:kube-system json.user.id:"u 7"'), {
      text: [
        { kind: 'word', value: 'timeout', negate: false },
        { kind: 'phrase', value: 'connection reset', negate: false },
        { kind: 'word', value: 'pay*', negate: false },
        { kind: 'word', value: 'healthz', negate: true },
        { kind: 'phrase', value: 'GET /ready', negate: true },
      ],
      fields: [
        { field: 'log.level', value: 'error', negate: false },
        { field: 'kubernetes.namespace', value: 'kube-system', negate: true },
        { field: 'json.user.id', value: 'u 7', negate: false },
      ],
    });
  });

  it('keeps words with a colon that are not fields (user:bob, URLs, a trailing colon)', () => {
    const { text, fields } = parseQueryText('user:bob http://example.com/x error: constructor:x');
    assert.deepEqual(fields, []);
    assert.deepEqual(
      text.map((t) => t.value),
      ['user:bob', 'http://example.com/x', 'error:', 'constructor:x'],
    );
  });

  it('a word with nothing to search for, an unclosed quote or a field without value is an error naming it', () => {
    assert.throws(
      () => parseQueryText('a - b'),
      (e: unknown) => e instanceof UsageError && /"-" at position 3 has no letters or digits to search for/.test(e.message),
    );
    assert.throws(
      () => parseQueryText('"oops'),
      (e: unknown) => e instanceof UsageError && /unclosed quote at position 1/.test(e.message),
    );
    assert.throws(
      () => parseQueryText('level:'),
      (e: unknown) => e instanceof UsageError && /"level:" has a field but no value/.test(e.message),
    );
  });

  it('OR, NOT, AND and parentheses: OR binds looser than the implicit AND; plain terms stay flat', () => {
    const word = (value: string) => ({ kind: 'text', term: { kind: 'word', value, negate: false } });
    assert.deepEqual(parseQueryText('a b OR c'), {
      text: [],
      fields: [],
      groups: [{ kind: 'or', children: [{ kind: 'and', children: [word('a'), word('b')] }, word('c')] }],
    });
    assert.deepEqual(parseQueryText('x (a OR b)'), {
      text: [{ kind: 'word', value: 'x', negate: false }],
      fields: [],
      groups: [{ kind: 'or', children: [word('a'), word('b')] }],
    });
    assert.deepEqual(parseQueryText('NOT level:info AND -"a b" NOT -c'), {
      text: [
        { kind: 'phrase', value: 'a b', negate: true },
        { kind: 'word', value: 'c', negate: false },
      ],
      fields: [{ field: 'log.level', value: 'info', negate: true }],
    });
    assert.deepEqual(parseQueryText('-(a OR b)').groups, [{ kind: 'not', child: { kind: 'or', children: [word('a'), word('b')] } }]);
    assert.deepEqual(
      parseQueryText('could not or and').text.map((t) => t.value),
      ['could', 'not', 'or', 'and'],
      'lower-case operators are words',
    );
    assert.deepEqual(
      parseQueryText('(null) f(x)').text.map((t) => t.value),
      ['null', 'f(x)'],
    );
    for (const [input, message] of [
      ['a OR', /OR at position 3 needs something after it/],
      ['OR a', /OR at position 1 needs something before it/],
      ['a AND', /AND at position 3 needs something after it/],
      ['(a OR b', /unclosed \( at position 1/],
      ['a ()', /empty \( \) at position 3/],
      ['NOT', /NOT at position 1 needs something after it/],
    ] as const) {
      assert.throws(
        () => parseQueryText(input),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
        input,
      );
    }
  });

  it('field values: patterns, quoted literals, case and level names as stored', () => {
    assert.deepEqual(parseQueryText('pod:checkout* container:"a*" namespace:Shop level:WARNING level:Error level:crit json.Code:AbC').fields, [
      { field: 'kubernetes.pod.name', value: 'checkout*', negate: false, pattern: true },
      { field: 'kubernetes.container.name', value: 'a*', negate: false },
      { field: 'kubernetes.namespace', value: 'shop', negate: false },
      { field: 'log.level', value: 'warn', negate: false },
      { field: 'log.level', value: 'error', negate: false },
      { field: 'log.level', value: 'fatal', negate: false },
      { field: 'json.Code', value: 'AbC', negate: false },
    ]);
    assert.deepEqual(parseQueryText('message:"pool resized" message:pay*').text, [
      { kind: 'phrase', value: 'pool resized', negate: false },
      { kind: 'word', value: 'pay*', negate: false },
    ]);
    const query = buildQuery(undefined, { level: 'WARNING', namespace: 'Shop', pod: 'Web-*' });
    assert.deepEqual([query.level, query.namespace, query.pod], ['warn', 'shop', 'web-*']);
  });
});

describe('label selector', () => {
  it('reads every kubectl form', () => {
    assert.deepEqual(parseSelector('app=web, tier!=db,env in (prod, staging),track notin (canary),release,!legacy,app.kubernetes.io/name==shop'), [
      { key: 'app', op: '=', values: ['web'] },
      { key: 'tier', op: '!=', values: ['db'] },
      { key: 'env', op: 'in', values: ['prod', 'staging'] },
      { key: 'track', op: 'notin', values: ['canary'] },
      { key: 'release', op: 'exists' },
      { key: 'legacy', op: '!exists' },
      { key: 'app.kubernetes.io/name', op: '=', values: ['shop'] },
    ]);
    assert.deepEqual(parseSelector(''), []);
  });

  it('says where it could not read', () => {
    for (const [input, message] of [
      ['app=web,', /expected a label key at position 9/],
      ['app=web tier=db', /unexpected "t" at position 9/],
      ['env in (a b)', /expected , or \) in the value list/],
      ['=web', /expected a label key at position 1/],
    ] as const) {
      assert.throws(
        () => parseSelector(input),
        (e: unknown) => e instanceof UsageError && message.test(e.message) && e.message.startsWith('--selector:'),
        input,
      );
    }
  });
});

describe('buildQuery', () => {
  const now = Date.parse('2026-11-24T12:00:00Z');

  it('turns flags into one query', () => {
    const query = buildQuery(
      'boom',
      {
        since: '90m',
        to: '2026-11-24T11:59:00.123456Z',
        namespace: 'shop',
        pod: 'web-*',
        container: 'nginx',
        selector: 'app=web',
        level: 'ERROR',
        stream: 'stderr',
        node: 'n1',
        oldestFirst: true,
        limit: '5',
      },
      now,
    );
    assert.equal(query.fromMicros, (now - 90 * 60_000) * 1000);
    assert.equal(query.toMicros, Date.parse('2026-11-24T11:59:00Z') * 1000 + 123456);
    assert.deepEqual(
      [query.namespace, query.pod, query.container, query.level, query.stream, query.node, query.order, query.limit],
      ['shop', 'web-*', 'nginx', 'error', 'stderr', 'n1', 'oldest', 5],
    );
    assert.deepEqual(query.labels, [{ key: 'app', op: '=', values: ['web'] }]);
    const defaults = buildQuery(undefined, {}, now);
    assert.deepEqual([defaults.order, defaults.limit, defaults.fromMicros, defaults.toMicros], ['newest', 100, undefined, undefined]);
  });

  it('rejects bad flags with the flag and the value', () => {
    for (const [flags, message] of [
      [{ limit: '0' }, /^--limit: .*got "0"/],
      [{ limit: 'ten' }, /^--limit/],
      [{ stream: 'stdin' }, /^--stream: stdout or stderr \(got "stdin"\)/],
      [{ since: '5 minutes' }, /^--since: expected a duration like 30s/],
      [{ from: 'yesterday' }, /^--from: not a date\/time \(got "yesterday"/],
      [{ since: '1h', from: '2026-11-24T10:00:00Z' }, /--since and --from/],
      [{ from: '2026-11-24T10:00:00Z', to: '2026-11-24T09:00:00Z' }, /--from must be before --to/],
      [{ pod: 'web-[12]' }, /^--pod: a name or a glob with \* and \?/],
      [{ namespace: '' }, /^--namespace: empty value/],
    ] as const) {
      assert.throws(
        () => buildQuery(undefined, flags, now),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
        JSON.stringify(flags),
      );
    }
  });

  it('durations and times', () => {
    assert.equal(parseDuration('30s', '--since'), 30_000);
    assert.equal(parseDuration('1.5h', '--since'), 5_400_000);
    assert.equal(parseDuration('2w', '--since'), 14 * 86_400_000);
    assert.equal(parseTime('2026-11-24T10:00:00.000001Z', '--from'), Date.parse('2026-11-24T10:00:00Z') * 1000 + 1);
    assert.equal(parseTime('2026-11-24T12:00:00+02:00', '--from'), Date.parse('2026-11-24T10:00:00Z') * 1000);
    assert.equal(parseTime('2026-11-24', '--from'), Date.parse('2026-11-24T00:00:00Z') * 1000);
    assert.equal(parseTime('2026-11-24 10:00:00.5Z', '--from'), Date.parse('2026-11-24T10:00:00.500Z') * 1000);
    assert.equal(parseTime('2024-02-29T00:00:00Z', '--from'), Date.parse('2024-02-29T00:00:00Z') * 1000);
  });

  it('a time Date.parse would guess at is an error, not another time', () => {
    for (const value of ['5', '2026-02-30', '2025-02-29', '2026-13-01', 'Nov 5', '1 2 3', '2026-11-24T25:00:00Z', '2026-11-24T10:00:00+25:00', 'tomorrow']) {
      assert.throws(
        () => parseTime(value, '--from'),
        (e: unknown) =>
          e instanceof UsageError && e.message === `--from: not a date/time (got ${JSON.stringify(value)}; use RFC 3339, e.g. 2026-11-24T10:00:00Z)`,
        value,
      );
    }
  });

  it('bounds outside what records can have are no bounds (no Elasticsearch 400 for a date before 1970)', () => {
    const now = Date.parse('2026-11-24T12:00:00Z');
    assert.equal(buildQuery(undefined, { since: '30000d' }, now).fromMicros, undefined);
    assert.equal(buildQuery(undefined, { since: '999999999w' }, now).fromMicros, undefined);
    assert.equal(buildQuery(undefined, { from: '1960-01-01T00:00:00Z', to: '1965-01-01T00:00:00Z' }, now).toMicros, 0);
    assert.equal(buildQuery(undefined, { to: '9999-12-31T00:00:00Z' }, now).toMicros, undefined);
  });
});
