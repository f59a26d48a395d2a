/**
 * Log levels as one vocabulary. Whatever a line calls its level (`WARNING`, `warn`, `W1203`, pino's 40,
 * `[error]`, `level=crit`), `log.level` holds one of `trace`, `debug`, `info`, `warn`, `error`, `fatal`,
 * so `level:warn` finds every warning whatever wrote it. The names are Filebeat's and the ECS examples'
 * (`warn`, not `warning`); `notice` counts as `info`, and everything above `error` (critical, alert,
 * emergency, panic) as `fatal`, so a search for the worst lines is one term. An explicit level field
 * (JSON, logfmt) with a word outside the table is kept, lower-cased.
 *
 * Text lines are read only at their head (see {@link textLevel}), with character checks before any string
 * is made: this runs on every container line that is not JSON.
 */

/** Every spelling we map, lower-case → ECS name. A Map: a plain object would answer `constructor`. */
const ALIASES = new Map<string, string>([
  ['trace', 'trace'],
  ['trc', 'trace'],
  ['trce', 'trace'],
  ['trac', 'trace'],
  ['verbose', 'trace'],
  ['vrb', 'trace'],
  ['finest', 'trace'],
  ['finer', 'trace'],
  ['debug', 'debug'],
  ['dbg', 'debug'],
  ['dbug', 'debug'],
  ['debu', 'debug'],
  ['fine', 'debug'],
  ['info', 'info'],
  ['inf', 'info'],
  ['information', 'info'],
  ['informational', 'info'],
  ['notice', 'info'],
  ['ntc', 'info'],
  ['warn', 'warn'],
  ['warning', 'warn'],
  ['wrn', 'warn'],
  ['wrng', 'warn'],
  ['error', 'error'],
  ['err', 'error'],
  ['eror', 'error'],
  ['erro', 'error'],
  ['severe', 'error'],
  ['fatal', 'fatal'],
  ['fata', 'fatal'],
  ['ftl', 'fatal'],
  ['critical', 'fatal'],
  ['crit', 'fatal'],
  ['crt', 'fatal'],
  ['panic', 'fatal'],
  ['dpanic', 'fatal'],
  ['emerg', 'fatal'],
  ['emergency', 'fatal'],
  ['alert', 'fatal'],
]);

/** Words a free-text line may start with to name its level (a subset: no `fine`, no `config`). */
const TEXT_WORDS = [
  'trace',
  'trc',
  'verbose',
  'debug',
  'dbg',
  'debu',
  'info',
  'inf',
  'information',
  'notice',
  'warn',
  'warning',
  'wrn',
  'error',
  'err',
  'erro',
  'eror',
  'severe',
  'fatal',
  'fata',
  'ftl',
  'critical',
  'crit',
  'panic',
  'emerg',
  'alert',
];

/**
 * Level words in an open-addressing table keyed by (length, first four letters folded to lower case), so
 * a word is matched from the character codes the scan already read: no substring made, no string hashed
 * per line. Longer words check their tail on a hit.
 */
const SLOTS = 128;
const slotKeys = new Int32Array(SLOTS);
const slotWords: string[] = new Array<string>(SLOTS).fill('');
const slotLevels: string[] = new Array<string>(SLOTS).fill('');

/** (length, the first four letters | 0x20 in 7 bits each, zeros for a shorter word) as an int32 */
function wordKey(length: number, letters: number): number {
  return (length * 268_435_456 + letters) | 0;
}

function slotOf(key: number): number {
  return (key ^ (key >>> 9) ^ (key >>> 17)) & (SLOTS - 1);
}

for (const word of TEXT_WORDS) {
  let letters = 0;
  for (let i = 0; i < 4; i++) letters = letters * 128 + (i < word.length ? word.charCodeAt(i) : 0);
  const key = wordKey(word.length, letters);
  let slot = slotOf(key);
  while (slotKeys[slot] !== 0) slot = (slot + 1) & (SLOTS - 1);
  slotKeys[slot] = key;
  slotWords[slot] = word;
  slotLevels[slot] = ALIASES.get(word)!;
}

/** Level of a word of `length` letters at text[start] whose first four letters (lower-cased) are packed in `key`. */
function lookupWord(text: string, start: number, length: number, key: number): string | undefined {
  let slot = slotOf(key);
  for (;;) {
    const k = slotKeys[slot];
    if (k === 0) return undefined;
    if (k === key) break;
    slot = (slot + 1) & (SLOTS - 1);
  }
  const word = slotWords[slot];
  for (let i = 4; i < length; i++) if ((text.charCodeAt(start + i) | 0x20) !== word.charCodeAt(i)) return undefined;
  return slotLevels[slot];
}

/** glog/klog header letters, and Ruby Logger's (`E, [2026-... #1] ERROR -- : ...`) */
export function letterLevel(c: number): string | undefined {
  switch (c) {
    case 68:
      return 'debug'; // D
    case 73:
      return 'info'; // I
    case 87:
      return 'warn'; // W
    case 69:
      return 'error'; // E
    case 70:
      return 'fatal'; // F
    default:
      return undefined;
  }
}

/** A level field's value → ECS name: lower-case, aliases mapped, pino/bunyan numbers. */
export function normaliseLevel(value: unknown): string | undefined {
  if (typeof value === 'number') {
    // pino / bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal
    if (value < 10 || !Number.isFinite(value)) return undefined;
    if (value >= 60) return 'fatal';
    if (value >= 50) return 'error';
    if (value >= 40) return 'warn';
    if (value >= 30) return 'info';
    if (value >= 20) return 'debug';
    return 'trace';
  }
  if (typeof value !== 'string' || value.length === 0 || value.length > 16) return undefined;
  const lower = value.toLowerCase();
  return ALIASES.get(lower) ?? lower;
}

function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

function isLetter(c: number): boolean {
  return (c | 0x20) >= 97 && (c | 0x20) <= 122;
}

/** What may follow a level word: end, blank, `]`, `)`, `>`, `:`, `[` (logrus' `INFO[0000]`), `|`, `,`. */
function endsWord(c: number): boolean {
  return c === 32 || c === 9 || c === 93 || c === 58 || c === 91 || c === 41 || c === 62 || c === 124 || c === 44 || c === 10 || Number.isNaN(c);
}

/** Characters a logfmt key is made of: letters, digits, `_`, `.`, `-`, `@`. */
function isKeyChar(c: number): boolean {
  return isLetter(c) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45 || c === 64;
}

/** How many blank-separated words after a leading timestamp may be the level (`[main] ERROR`, `- app - ERROR`). */
const WORDS_AFTER_TIME = 4;
/** and how far past the timestamp that goes */
const HEAD_CHARS = 80;

/** Where a level word may stand, and so which spellings count there. */
const enum Place {
  /** first word of a line without a timestamp: `ERROR x`, `Error: x`, `[warn] x` — not `error connecting` */
  LINE_START,
  /** first word after a timestamp: any case (`...Z\tinfo\t...`, zap) */
  AFTER_TIME,
  /** a later word: upper case or bracketed only */
  LATER,
}

/**
 * The level a text line names at its head, or undefined. `timeEnd` is where a leading timestamp ends (0
 * when there is none; see ./line-time.ts). Recognised:
 *   klog/glog `E1203 15:04:05.123456 ...`; Ruby Logger `E, [...]`; logfmt `... level=warn ...` (also
 *   `lvl=`, `severity=`); a first word `ERROR ...`, `ERROR:root:...`, `[error] ...`, `Warning: ...`,
 *   `INFO[0000] ...`; after a timestamp, one of the next few words: `2026-... ERROR [main]`,
 *   `... [main] WARN`, `... [error]`, `... - app - ERROR - ...`, `...Z\tinfo\t...` (zap).
 * Upper-case words count wherever they are looked for; other cases only bracketed, followed by `:`, or
 * as the first word after a timestamp, so `error connecting` mid-sentence is no level.
 */
export function textLevel(text: string, timeEnd: number): string | undefined {
  if (timeEnd === 0) {
    const c0 = text.charCodeAt(0);
    if (isUpper(c0)) {
      const c1 = text.charCodeAt(1);
      // klog: `Lmmdd hh:mm:ss` — letter, four digits, a space, colons where the clock has them
      if (c1 >= 48 && c1 <= 57 && text.charCodeAt(5) === 32 && text.charCodeAt(8) === 58 && text.charCodeAt(11) === 58 && isDigits(text, 2, 5))
        return letterLevel(c0);
      // Ruby Logger: `E, [2026-12-03T15:04:05.123456 #1234] ERROR -- : ...`
      if (c1 === 44 && text.charCodeAt(2) === 32 && text.charCodeAt(3) === 91) return letterLevel(c0);
    }
    if (isLetter(c0) && looksLogfmt(text)) return logfmtLevel(text);
    return wordAt(text, 0, c0, Place.LINE_START);
  }
  const limit = Math.min(text.length, timeEnd + HEAD_CHARS);
  let i = timeEnd;
  for (let w = 0; w < WORDS_AFTER_TIME; w++) {
    let c = text.charCodeAt(i);
    while (c === 32 || c === 9) c = text.charCodeAt(++i);
    if (i >= limit || c === 10) return undefined; // the first line only (a joined stack trace has more)
    const level = wordAt(text, i, c, w === 0 ? Place.AFTER_TIME : Place.LATER);
    if (level !== undefined) return level;
    // a native scan to the next blank: cheaper than a character loop over a long word (a URL, a path)
    const blank = text.indexOf(' ', i + 1);
    if (blank < 0 || blank >= limit) return undefined;
    i = blank;
  }
  return undefined;
}

/**
 * The level named by the word at text[i] (`[`, `(` or `<` before it allowed; `c` is text[i]), by the
 * rules of its place. Every character is read once: at a few ns per charCodeAt, the reads are most of
 * the per-line cost (measured ~90 ns for a `<timestamp> INFO ...` line, timestamp included).
 */
function wordAt(text: string, i: number, c: number, place: Place): string | undefined {
  const bracket = c === 91 || c === 40 || c === 60; // [ ( <
  if (bracket) c = text.charCodeAt(++i);
  if (!isLetter(c)) return undefined;
  const start = i;
  // upper case: the first two letters are (`Error` is not)
  let upper = isUpper(c);
  // the first four letters, lower-cased, packed as the table's keys are
  let packed = c | 0x20;
  c = text.charCodeAt(++i);
  if (!isUpper(c)) upper = false;
  while (isLetter(c)) {
    if (i - start < 4) packed = packed * 128 + (c | 0x20);
    c = text.charCodeAt(++i);
  }
  const length = i - start;
  if (length < 3 || length > 11 || !endsWord(c)) return undefined;
  if (length === 3) packed *= 128;
  // c is the character after the word
  if (upper) return lookupWord(text, start, length, wordKey(length, packed));
  const fits = bracket ? c === 93 || c === 41 || c === 62 : place === Place.AFTER_TIME || (place === Place.LINE_START && c === 58);
  return fits ? lookupWord(text, start, length, wordKey(length, packed)) : undefined;
}

function isDigits(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** The line starts with `key=`: worth looking for `level=` in it. */
function looksLogfmt(text: string): boolean {
  const n = Math.min(text.length, 32);
  for (let i = 1; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 61) return true;
    if (!isKeyChar(c)) return false;
  }
  return false;
}

const LOGFMT_KEYS = ['level=', 'lvl=', 'severity='];

/** `level=warn` / `level="warn"` as a logfmt pair of the line (at its start or after a blank). */
function logfmtLevel(text: string): string | undefined {
  for (let k = 0; k < LOGFMT_KEYS.length; k++) {
    const key = LOGFMT_KEYS[k];
    let at = text.indexOf(key);
    while (at > 0 && text.charCodeAt(at - 1) !== 32) at = text.indexOf(key, at + 1);
    if (at < 0) continue;
    let start = at + key.length;
    let end: number;
    if (text.charCodeAt(start) === 34) {
      start++;
      end = text.indexOf('"', start);
      if (end < 0) continue;
    } else {
      end = start;
      while (end < text.length && text.charCodeAt(end) !== 32 && text.charCodeAt(end) !== 10) end++;
    }
    if (end > start && end - start <= 16) return normaliseLevel(text.slice(start, end));
  }
  return undefined;
}
