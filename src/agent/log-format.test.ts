import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseLogFormat, formatLogLine } from './log-format.js';

describe('self-log format', () => {
  it('is text on a terminal and JSON otherwise, unless LOGFERRY_LOG_FORMAT says', () => {
    assert.equal(chooseLogFormat({}, true), 'text');
    assert.equal(chooseLogFormat({}, false), 'json');
    assert.equal(chooseLogFormat({ LOGFERRY_LOG_FORMAT: 'json' }, true), 'json');
    assert.equal(chooseLogFormat({ LOGFERRY_LOG_FORMAT: 'text' }, false), 'text');
  });

  it('rewrites a pino line as time, level, message and key=value fields', () => {
    const time = new Date(2026, 10, 24, 9, 5, 7).getTime();
    const line = JSON.stringify({
      level: 40,
      time,
      pid: 1,
      name: 'logferry',
      msg: 'output unavailable',
      output: 'elasticsearch',
      bytes: 42,
      inputs: ['/a', '/b'],
      reason: 'connect ECONNREFUSED',
    });
    assert.equal(
      formatLogLine(line + '\n', { colour: false }),
      '09:05:07 WARN  output unavailable  output=elasticsearch bytes=42 inputs=["/a","/b"] reason="connect ECONNREFUSED"\n',
    );
    assert.match(formatLogLine(line, { colour: true }), /^09:05:07 \x1b\[33mWARN \x1b\[0m output unavailable {2}\x1b\[2m/);
  });

  it('escapes control characters from outside and puts an error stack under the line', () => {
    const line = JSON.stringify({
      level: 50,
      time: 0,
      msg: 'cannot read \x1b]0;x\x07file',
      err: { message: 'boom', stack: 'Error: boom\n    at f (a.js:1:1)' },
    });
    const out = formatLogLine(line, { colour: false });
    assert.doesNotMatch(out, /\x1b|\x07/);
    assert.match(out, /ERROR cannot read \\x1b\]0;x\\x07file {2}err=boom\n {4}Error: boom\n {8}at f/);
  });

  it('passes a line that is not JSON through', () => {
    assert.equal(formatLogLine('plain words', { colour: false }), 'plain words\n');
  });
});
