/**
 * Which format a file is in, from its first non-empty line: docker json-file, CRI, glog/klog, logrus, or
 * plain text. Run once per file.
 */
import { newCriHeader, parseCriHeader } from './cri.js';
import { newDockerLine, parseDockerLine } from './docker-json.js';
import { isGlogHeader } from './glog.js';
import { isLogrusLine } from './logrus.js';
import { toUtcTimestamp } from './time.js';

export type DetectedFormat = 'cri' | 'docker-json' | 'plain' | 'glog' | 'logrus';

export function detectFormat(buf: Buffer, start: number, end: number): DetectedFormat {
  const header = newCriHeader();
  if (parseCriHeader(buf, start, end, header) && toUtcTimestamp(buf.toString('latin1', start, header.timestampEnd)) !== undefined) return 'cri';
  const line = buf.toString('utf8', start, Math.min(end, start + 64 * 1024));
  if (line.charCodeAt(0) === 123) return parseDockerLine(buf.toString('utf8', start, end), newDockerLine()) ? 'docker-json' : 'plain';
  if (isGlogHeader(line)) return 'glog';
  if (isLogrusLine(line)) return 'logrus';
  return 'plain';
}
