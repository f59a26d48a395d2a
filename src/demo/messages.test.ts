import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../config/load.js';
import { cliCommand, demoHints, destination, statusLine, stoppingLine } from './messages.js';

const sink = { stored: 1200, duplicates: 3, deadLettered: 0, failed: 0, retries: 0 };

describe('demo messages', () => {
  it('names the command as the person runs it', () => {
    assert.equal(cliCommand('/usr/local/bin/logferry', '/home/me'), 'logferry');
    assert.equal(cliCommand('/src/logferry/bin/logferry.js', '/src/logferry'), 'node bin/logferry.js');
    assert.equal(cliCommand('/src/logferry/bin/logferry.js', '/tmp'), 'node /src/logferry/bin/logferry.js');
  });

  it('with Elasticsearch: hints name its URL (never its credentials) and query it', async () => {
    const config = await loadConfig({ env: { ELASTICSEARCH_HOSTS: 'http://elastic:secret@127.0.0.1:9200' } });
    assert.equal(destination(config), 'Elasticsearch at http://127.0.0.1:9200');
    const hints = demoHints(config, { root: '/tmp/x', command: 'logferry', shutdownGraceMs: 25_000 }).join('\n');
    assert.doesNotMatch(hints, /secret/);
    assert.match(hints, /^ {2}export ELASTICSEARCH_HOSTS=http:\/\/USER:PASSWORD@127\.0\.0\.1:9200$/m);
    assert.match(hints, /^ {2}logferry search 'level:error' -n shop$/m);
    assert.match(hints, /^ {2}curl -s -u USER:PASSWORD 'http:\/\/127\.0\.0\.1:9200\/logstash-\*\/_count\?q=kubernetes\.namespace:shop'$/m);
    assert.match(hints, /flushes what was read \(up to 25s\)/);
  });

  it('status and stopping lines count stored, pending and duplicate records', async () => {
    const progress = { written: 1500, recordsIn: 1250, sink };
    assert.equal(statusLine(progress, 12_000), 'logferry demo: 12s: 1,500 lines written, 1,200 records stored, 47 pending, 3 duplicates');
    const config = await loadConfig({ env: {}, overrides: { dataDir: '/tmp/d' } });
    assert.equal(
      stoppingLine(config, progress),
      'logferry demo: stopping: flushing 47 pending records to the local store in /tmp/d (up to 25s; Ctrl-C again quits without waiting)',
    );
  });
});
