/** Server detection and the templates each kind of server gets. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DocumentEncoder } from '../../event/document.js';
import { deadLetterLine, recordInfo, rejectionSummary } from './dead-letter.js';
import { describeServer, parseServerInfo, unsupportedReason, type ServerInfo } from './server-info.js';
import { templateRequests } from './templates.js';
import { makeRecords } from '../../../test/helpers/records.js';

const answer = (number: string, distribution?: string, flavor?: string) => ({
  name: 'n',
  version: { number, distribution, build_flavor: flavor },
  tagline: 'x',
});

describe('server detection', () => {
  const cases: Array<[string, unknown, Partial<ServerInfo>]> = [
    ['Elasticsearch 6.8', answer('6.8.23', undefined, 'default'), { composableTemplates: false, needsType: true, dateNanos: false }],
    ['Elasticsearch 7.7', answer('7.7.1'), { composableTemplates: false, needsType: false, dateNanos: true }],
    ['Elasticsearch 7.10 OSS', answer('7.10.2', undefined, 'oss'), { composableTemplates: true, needsType: false, dateNanos: true, flavor: 'oss' }],
    ['Elasticsearch 8', answer('8.15.0', undefined, 'default'), { major: 8, composableTemplates: true, needsType: false }],
    ['Elasticsearch 9', answer('9.1.0'), { major: 9, composableTemplates: true, needsType: false }],
    ['OpenSearch 1', answer('1.3.19', 'opensearch'), { distribution: 'opensearch', composableTemplates: true, needsType: false, dateNanos: true }],
    ['OpenSearch 2', answer('2.17.1', 'opensearch'), { distribution: 'opensearch', major: 2 }],
    ['OpenSearch 3', answer('3.0.0', 'opensearch'), { distribution: 'opensearch', major: 3 }],
  ];
  for (const [name, body, expected] of cases) {
    it(name, () => {
      const info = parseServerInfo(body)!;
      for (const [key, value] of Object.entries(expected)) assert.equal(info[key as keyof typeof info], value, key);
      assert.equal(unsupportedReason(info), undefined);
    });
  }

  it('too old, or not a cluster at all', () => {
    assert.match(unsupportedReason(parseServerInfo(answer('5.6.16'))!)!, /Elasticsearch 5\.6\.16 is too old/);
    assert.equal(parseServerInfo({ status: 'ok' }), undefined);
    assert.equal(parseServerInfo(undefined), undefined);
    assert.equal(describeServer(parseServerInfo(answer('2.17.1', 'opensearch'))!), 'OpenSearch 2.17.1');
  });
});

describe('templates', () => {
  const targets = { index: 'logstash', deadLetterIndex: 'logferry-deadletter' };

  it('composable where supported: logstash-* with the ECS field types, and the dead-letter index', () => {
    const [logs, dead] = templateRequests(parseServerInfo(answer('7.10.2'))!, targets);
    assert.equal(logs.path, '/_index_template/logferry-logstash');
    assert.deepEqual(logs.body.index_patterns, ['logstash-*']);
    const mappings = (logs.body.template as { mappings: any }).mappings;
    assert.equal(mappings.properties['@timestamp'].type, 'date_nanos');
    assert.equal(mappings.properties.message.type, 'text');
    // words as the local store cuts them (issue 14): split at anything but letters, digits and _, lower-cased
    assert.equal(mappings.properties.message.analyzer, 'logferry_message');
    const analysis = (logs.body.template as { settings: any }).settings.analysis;
    assert.deepEqual(analysis.analyzer.logferry_message, { type: 'custom', tokenizer: 'logferry_words', filter: ['lowercase'] });
    assert.deepEqual(analysis.tokenizer.logferry_words, { type: 'pattern', pattern: '[\\p{L}\\p{N}\\p{Co}_]{1,255}', group: 0 });
    assert.equal(mappings.properties.log.properties.offset.type, 'long');
    assert.equal(mappings.properties.log.properties.origin.properties.file.properties.line.type, 'long');
    assert.equal(mappings.properties.kubernetes.properties.namespace.type, 'keyword');
    assert.equal(mappings.properties.json, undefined, 'json.* stays dynamic');
    const dynamic = Object.fromEntries(mappings.dynamic_templates.map((t: Record<string, any>) => Object.entries(t)[0]));
    assert.deepEqual(
      dynamic.kubernetes_labels,
      { path_match: 'kubernetes.labels.*', mapping: { type: 'keyword', ignore_above: 1024 } },
      'any label value is a keyword',
    );
    assert.equal(dynamic.kubernetes_annotations.mapping.type, 'keyword');
    for (const name of ['kubernetes', 'container', 'host', 'log']) assert.equal(dynamic[`${name}_strings`].mapping.type, 'keyword', name);
    assert.equal(dead.path, '/_index_template/logferry-logferry-deadletter');
    assert.deepEqual(dead.body.index_patterns, ['logferry-deadletter-*']);
    const deadMappings = (dead.body.template as { mappings: any }).mappings;
    assert.equal(deadMappings.properties.reason.type, 'keyword');
    assert.equal(deadMappings.properties.document.index, false);
  });

  it('data streams: a composable template with data_stream for the named stream', () => {
    const [logs] = templateRequests(parseServerInfo(answer('8.15.0'))!, { ...targets, dataStream: 'logs-kubernetes.container_logs-default' });
    assert.deepEqual(logs.body.index_patterns, ['logs-kubernetes.container_logs-default']);
    assert.deepEqual(logs.body.data_stream, {});
    assert.ok((logs.body.priority as number) > 100, 'above the built-in logs-*-* template');
  });

  it('legacy _template before 7.8; type-wrapped with date on 6.8', () => {
    const [logs] = templateRequests(parseServerInfo(answer('7.7.1'))!, targets);
    assert.equal(logs.path, '/_template/logferry-logstash');
    assert.equal((logs.body.mappings as any).properties['@timestamp'].type, 'date_nanos');
    assert.equal((logs.body.settings as any).analysis.analyzer.logferry_message.tokenizer, 'logferry_words');
    const [six] = templateRequests(parseServerInfo(answer('6.8.23'))!, targets);
    assert.equal((six.body.mappings as any)._doc.properties['@timestamp'].type, 'date');
  });
});

describe('dead letters', () => {
  it('keep the record id, its day, the document as a string and the reason', () => {
    const [record] = makeRecords(1, { timestamp: () => '2026-11-23T23:59:59.999999999Z' });
    const document = new DocumentEncoder().encode(record);
    const action = `{"create":{"_index":"logstash-2026.11.23","_id":"${record.id}"}}`;
    const info = recordInfo(action, document);
    assert.deepEqual(info, {
      id: record.id,
      timestamp: record.timestamp,
      path: record.file.path,
      offset: 0,
      namespace: 'ns',
      pod: 'app-1',
      container: 'app',
      host: 'n1',
    });
    const rejection = { status: 400, type: 'mapper_parsing_exception', reason: 'failed to parse field [json.user]' };
    const line = deadLetterLine('logferry-deadletter', info, document, 'logstash-2026.11.23', rejection, '2026-11-24T08:00:00.000Z', false);
    assert.equal(line.action, `{"create":{"_index":"logferry-deadletter-2026.11.23","_id":"${record.id}"}}\n`);
    const letter = JSON.parse(line.document);
    assert.equal(letter.document, document);
    assert.equal(letter.reason, '400 mapper_parsing_exception: failed to parse field [json.user] (index logstash-2026.11.23)');
    assert.equal(letter.error.status, 400);
    assert.equal(letter.kubernetes.pod.name, 'app-1');
    assert.equal(letter['@timestamp'], '2026-11-24T08:00:00.000Z');
    assert.equal(rejectionSummary({ status: 413 }, 'x'), '413 rejected (index x)');
  });

  it('cut very large documents so the dead letter itself is not refused for its size', () => {
    const big = JSON.stringify({ message: 'x'.repeat(2 * 1024 * 1024) });
    const info = recordInfo('{"create":{"_id":"a"}}', big);
    const letter = JSON.parse(deadLetterLine('dl', info, big, 'i', { status: 413 }, '2026-11-24T08:00:00.000Z', false).document);
    assert.equal(letter.document.length, 1024 * 1024);
    assert.equal(letter.document_truncated, true);
    assert.equal(
      JSON.parse(deadLetterLine('dl', info, big, 'i', { status: 413 }, '2026-11-24T08:00:00.000Z', false).action).create._index,
      'dl-2026.11.24',
      'no timestamp: the day of the refusal',
    );
  });
});
