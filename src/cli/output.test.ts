import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FoundRecord } from '../query/query.js';
import { escapeControls, formatJson, formatText, summaryLine } from './output.js';

const record = (message: string, extra: Record<string, unknown> = {}): FoundRecord => ({
  id: 'r1',
  tsMicros: 0,
  cursor: { tsMicros: 0, tiebreak: '0' },
  doc: { '@timestamp': '2026-11-24T10:00:00Z', message, kubernetes: { namespace: 'shop', pod: { name: 'web' }, container: { name: 'c' } }, ...extra },
});

describe('text output is safe for a terminal', () => {
  it('escapes ESC, other C0 and C1 controls and DEL as \\xNN; keeps tabs and newlines', () => {
    assert.equal(escapeControls('a\x1b]0;title\x07b\x1b[2Jc\rd\te\x9b1mf\x7fg\x00'), 'a\\x1b]0;title\\x07b\\x1b[2Jc\\x0dd\te\\x9b1mf\\x7fg\\x00');
    assert.equal(escapeControls('line 1\nline 2 ünïcødé ✓'), 'line 1\nline 2 ünïcødé ✓');
  });

  it("a log line cannot retitle or recolour the terminal; colour is only logferry's own", () => {
    const evil = record('\x1b]0;pwned\x07\x1b[41mALERT\x1b[0m', { log: { level: 'error\x1b[8m' } });
    const plain = formatText(evil, false);
    assert.equal(plain, 'shop/web/c 2026-11-24T10:00:00Z ERROR\\x1b[8M \\x1b]0;pwned\\x07\\x1b[41mALERT\\x1b[0m');
    const coloured = formatText(evil, true);
    assert.doesNotMatch(coloured.replace(/\x1b\[[0-9;]*m/g, ''), /\x1b/, 'only SGR colour codes logferry adds');
    assert.match(coloured, /\\x1b\]0;pwned/);
    assert.equal(JSON.parse(formatJson(evil)).message, evil.doc.message, 'JSON output unchanged');
  });

  it('a multi-line message keeps its lines, indented', () => {
    assert.equal(formatText(record('boom\n\tat x()\r'), false), 'shop/web/c 2026-11-24T10:00:00Z boom\n    \tat x()\\x0d');
  });
});

describe('search summary', () => {
  it('says what was read and how much matched', () => {
    assert.equal(summaryLine('local store d/store', 0, { count: 0, exact: true }, 'newest'), 'logferry: searched local store d/store: no records matched');
    assert.equal(summaryLine('local store d/store', 1, { count: 1, exact: true }, 'newest'), 'logferry: searched local store d/store: 1 record');
    assert.equal(
      summaryLine('Elasticsearch http://es:9200 (logstash-*)', 100, { count: 2345, exact: true }, 'newest'),
      'logferry: searched Elasticsearch http://es:9200 (logstash-*): showing the newest 100 of 2,345 (--limit for more)',
    );
    assert.equal(
      summaryLine('x', 100, { count: 10_000, exact: false }, 'oldest'),
      'logferry: searched x: showing the oldest 100 of more than 10,000 (--limit for more)',
    );
  });
});
