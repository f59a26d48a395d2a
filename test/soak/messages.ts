/**
 * What each soak record says, derived from its marker alone (`<tag>-<n>`, found in the message as
 * `seq=<tag>-<n>`): the writers and the checker compute the same text, so the checker can tell a whole
 * message from a cut one without keeping ~200k messages in memory.
 *
 * About 10% are long and written as 2–3 CRI partial pieces (P…P F), the way containerd splits lines
 * longer than its buffer. Their body repeats `~<tag>-<n>~`, so a piece stored without its first piece
 * (which holds `seq=`) can still be traced to its record.
 */
import { hash32 } from './random.js';

export interface MessageShape {
  text: string;
  /** CRI pieces the runtime writes it in: 1 = one F line */
  pieces: number;
  stream: 'stdout' | 'stderr';
  long: boolean;
}

const FILLER = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function markerOf(tag: string, n: number): string {
  return `${tag}-${n}`;
}

export function messageShape(marker: string): MessageShape {
  const h = hash32(marker);
  const long = h % 10 === 0;
  const stream = h % 7 === 3 ? 'stderr' : 'stdout';
  if (!long) {
    // Plain text (not JSON): the agent's `auto` message parsing leaves it as it is.
    return { text: `soak line seq=${marker} ${FILLER.slice(0, 8 + ((h >>> 4) % 50))}`, pieces: 1, stream, long };
  }
  const length = 1500 + ((h >>> 8) % 6000);
  const head = `soak long seq=${marker} len=${length} `;
  const unit = `~${marker}~${FILLER} `;
  let body = '';
  while (head.length + body.length < length) body += unit;
  const text = (head + body).slice(0, length - 4) + ' end';
  return { text, pieces: 2 + ((h >>> 20) % 2), stream, long };
}

/** Markers named in a stored message: `seq=` ones (record starts) and `~…~` ones (pieces of long records). */
export function markersIn(message: string): { starts: string[]; traces: Set<string> } {
  const starts: string[] = [];
  for (const match of message.matchAll(/seq=([A-Za-z0-9]+-\d+)/g)) starts.push(match[1]);
  const traces = new Set<string>();
  for (const match of message.matchAll(/~([A-Za-z0-9]+-\d+)~/g)) traces.add(match[1]);
  return { starts, traces };
}
