/**
 * Container runtime formats, parsed by index search (no regular expressions per line):
 *   CRI (containerd, CRI-O):  `<RFC3339Nano> <stdout|stderr> <P|F> <text>`
 *   docker json-file:         `{"log":"<text>\n","stream":"stdout","time":"<RFC3339Nano>"}`
 * Both split long lines into pieces (CRI `P`, docker `log` without its trailing newline) that are joined
 * per stream until the final piece.
 */
import { RecordFlag, type Stream } from '../event/record.js';
import { decodeText, type DecodedText } from './text.js';

const SPACE = 32;

export interface ContainerLine {
  timestamp: string;
  stream: Stream;
  /** false for a partial piece (more follows on the same stream) */
  final: boolean;
  text: string;
  flags: number;
}

/** RFC 3339 timestamps are kept as written when in UTC; an offset is converted, keeping the fraction. */
export function toUtcTimestamp(value: string): string | undefined {
  const length = value.length;
  if (length < 20 || value.charCodeAt(4) !== 45 || value.charCodeAt(10) !== 84) return undefined;
  if (value.charCodeAt(length - 1) === 90) return value;
  const sign = value.charCodeAt(length - 6);
  if ((sign !== 43 && sign !== 45) || value.charCodeAt(length - 3) !== 58) return undefined;
  const dot = value.indexOf('.', 19);
  const fraction = dot > 0 ? value.slice(dot, length - 6) : '';
  const seconds = Date.parse(value.slice(0, 19) + value.slice(length - 6));
  if (Number.isNaN(seconds)) return undefined;
  return new Date(seconds).toISOString().slice(0, 19) + fraction + 'Z';
}

const scratch: DecodedText = { text: '', flags: 0 };

/** Parse one CRI line; undefined when it is not one. */
export function parseCriLine(buf: Buffer, start: number, end: number, out: ContainerLine): boolean {
  const sp1 = buf.indexOf(SPACE, start);
  if (sp1 < 0 || sp1 >= end || sp1 - start < 20) return false;
  const timestamp = toUtcTimestamp(buf.toString('latin1', start, sp1));
  if (timestamp === undefined) return false;
  const sp2 = buf.indexOf(SPACE, sp1 + 1);
  if (sp2 < 0 || sp2 >= end) return false;
  const streamLength = sp2 - sp1 - 1;
  let stream: Stream;
  if (streamLength === 6 && buf[sp1 + 4] === 111 /* o of stdout */) stream = 'stdout';
  else if (streamLength === 6 && buf[sp1 + 4] === 101 /* e of stderr */) stream = 'stderr';
  else return false;
  const tag = buf[sp2 + 1];
  if ((tag !== 70 && tag !== 80) || (sp2 + 2 < end && buf[sp2 + 2] !== SPACE)) return false;
  const textStart = Math.min(sp2 + 3, end);
  decodeText(buf, textStart, end, scratch);
  out.timestamp = timestamp;
  out.stream = stream;
  out.final = tag === 70;
  out.text = scratch.text;
  out.flags = scratch.flags;
  return true;
}

interface DockerJsonLine {
  log?: unknown;
  stream?: unknown;
  time?: unknown;
}

/** Parse one docker json-file line; false when it is not one. */
export function parseDockerLine(buf: Buffer, start: number, end: number, out: ContainerLine): boolean {
  if (buf[start] !== 123) return false;
  decodeText(buf, start, end, scratch);
  let parsed: DockerJsonLine;
  try {
    parsed = JSON.parse(scratch.text) as DockerJsonLine;
  } catch {
    return false;
  }
  if (typeof parsed.log !== 'string' || typeof parsed.time !== 'string') return false;
  const timestamp = toUtcTimestamp(parsed.time);
  if (timestamp === undefined) return false;
  let text = parsed.log;
  const final = text.endsWith('\n');
  if (final) text = text.slice(0, text.endsWith('\r\n') ? -2 : -1);
  let flags = scratch.flags;
  if (text.includes('\0')) {
    text = text.replaceAll('\0', '');
    flags |= RecordFlag.NUL_REMOVED;
  }
  out.timestamp = timestamp;
  out.stream = parsed.stream === 'stderr' ? 'stderr' : 'stdout';
  out.final = final;
  out.text = text;
  out.flags = flags;
  return true;
}

/** Which container format a file is in, from its first line. */
export function detectContainerFormat(buf: Buffer, start: number, end: number): 'cri' | 'docker-json' | 'plain' {
  const probe: ContainerLine = { timestamp: '', stream: 'stdout', final: true, text: '', flags: 0 };
  if (buf[start] === 123 && parseDockerLine(buf, start, end, probe)) return 'docker-json';
  if (parseCriLine(buf, start, end, probe)) return 'cri';
  return 'plain';
}
