/**
 * The free-text query language, the same for the local store and Elasticsearch:
 *   words            payment declined          (all of them, anywhere in the message, any case)
 *   phrases          "card expired"
 *   prefixes         pay*
 *   fields           level:error  namespace:shop  pod:checkout*  json.user.id:u7  message:"a b"
 *   exclusion        -declined  -level:info  NOT level:info  -(a OR b)
 *   alternatives     payment OR refund         (OR binds looser than the implicit AND: use parentheses)
 *   grouping         (timeout OR reset) -namespace:kube-system
 * Operators are upper-case (`or`, `not` and `and` are ordinary words, as in "could not connect").
 *
 * The parse is a tree; {@link flattenQuery} turns its top-level conjunction of plain terms into the flat
 * lists the backends have fast plans for, and leaves only real OR/NOT groups as trees.
 */
import { UsageError } from '../cli/errors.js';
import { messageTokens } from '../core/message-tokens.js';
import { normaliseLevel } from '../parsers/level.js';

export interface TextTerm {
  kind: 'word' | 'phrase';
  value: string;
  negate: boolean;
}

export interface FieldTerm {
  field: string;
  value: string;
  negate: boolean;
  /** the value holds `*` / `?` wildcards (written unquoted): matched as a glob on keyword fields */
  pattern?: boolean;
}

export type QueryNode =
  | { kind: 'text'; term: TextTerm }
  | { kind: 'field'; term: FieldTerm }
  | { kind: 'and'; children: QueryNode[] }
  | { kind: 'or'; children: QueryNode[] }
  | { kind: 'not'; child: QueryNode };

export interface ParsedText {
  text: TextTerm[];
  fields: FieldTerm[];
  /** conjuncts that are not plain terms (an OR, a negated group); absent when there are none */
  groups?: QueryNode[];
}

/** Shorthand fields that map to first-class filters on both backends. */
export const FIELD_ALIASES: Record<string, string> = {
  namespace: 'kubernetes.namespace',
  ns: 'kubernetes.namespace',
  pod: 'kubernetes.pod.name',
  container: 'kubernetes.container.name',
  node: 'kubernetes.node.name',
  host: 'host.name',
  level: 'log.level',
  stream: 'stream',
  service: 'service.name',
  file: 'log.file.path',
};

const TOP_LEVEL_FIELDS = new Set(['message', 'stream', '@timestamp']);

/**
 * Kubernetes names (namespaces, pods, containers, nodes are DNS names: lower-case only), levels (lower-cased
 * at ingest) and streams: a value typed in another case means the lower-case one, so `namespace:Shop` and
 * `level:WARN` find what users expect while both backends still compare exactly (and use their indexes).
 */
const LOWER_CASE_FIELDS = new Set(['kubernetes.namespace', 'kubernetes.pod.name', 'kubernetes.container.name', 'kubernetes.node.name', 'log.level', 'stream']);

/** Level names as the parsers store them: `warning` is stored `warn`. */
/**
 * What a typed value of a field means: lower-cased for {@link LOWER_CASE_FIELDS}; a level mapped as the
 * parsers store it (`WARNING` → `warn`, `crit` → `fatal`), so a query finds what ingest normalised.
 */
export function normalizeFieldValue(field: string, value: string): string {
  if (!LOWER_CASE_FIELDS.has(field)) return value;
  const lower = value.toLowerCase();
  return field === 'log.level' ? (normaliseLevel(lower) ?? lower) : lower;
}

/**
 * The stored values a level matches: `warn` also finds `warning`, which records stored before levels were
 * normalised (and other shippers' indices) hold.
 */
export function levelValues(level: string): string[] {
  return level === 'warn' ? ['warn', 'warning'] : [level];
}

/**
 * `name:` starts a field term only for a known alias, a top-level field or a dotted path (`json.user.id`):
 * `user:bob` or `http://host` stay words, searched as phrases of their tokens.
 */
export function isFieldName(name: string): boolean {
  return (
    /^[A-Za-z_@][\w.@/-]*$/.test(name) && (Object.hasOwn(FIELD_ALIASES, name) || TOP_LEVEL_FIELDS.has(name) || (name.includes('.') && !name.endsWith('.')))
  );
}

type Token = { kind: 'open' | 'close' | 'or' | 'and' | 'not'; pos: number } | { kind: 'term'; pos: number; raw: string; quoted: boolean };

const fail = (message: string, input: string): never => {
  throw new UsageError(`query: ${message} in ${JSON.stringify(input)}`);
};

function lex(input: string): Token[] {
  const tokens: Token[] = [];
  const n = input.length;
  let depth = 0;
  let i = 0;
  const closeQuote = (at: number): number => {
    const close = input.indexOf('"', at + 1);
    if (close < 0) fail(`unclosed quote at position ${at + 1}`, input);
    return close;
  };
  while (i < n) {
    while (i < n && /\s/.test(input[i])) i++;
    if (i >= n) break;
    const pos = i + 1;
    // A dash right before something excludes it; a lone dash is a word (and then nothing to search for).
    const dashed = input[i] === '-' && i + 1 < n && !/\s/.test(input[i + 1]);
    if (dashed) {
      tokens.push({ kind: 'not', pos });
      i++;
    }
    if (input[i] === '(') {
      tokens.push({ kind: 'open', pos: i + 1 });
      depth++;
      i++;
      continue;
    }
    if (input[i] === ')' && depth > 0 && !dashed) {
      tokens.push({ kind: 'close', pos });
      depth--;
      i++;
      continue;
    }
    if (input[i] === '"') {
      const close = closeQuote(i);
      tokens.push({ kind: 'term', pos: i + 1, raw: input.slice(i + 1, close), quoted: true });
      i = close + 1;
      continue;
    }
    const start = i;
    // `)` ends a word only inside a group: `(null)` outside one is just a word's punctuation.
    while (i < n && !/\s/.test(input[i]) && !(input[i] === ')' && depth > 0)) i = input[i] === '"' ? closeQuote(i) + 1 : i + 1;
    const raw = input.slice(start, i);
    const operator = dashed ? undefined : raw === 'OR' ? 'or' : raw === 'AND' ? 'and' : raw === 'NOT' ? 'not' : undefined;
    tokens.push(operator !== undefined ? { kind: operator, pos: start + 1 } : { kind: 'term', pos: start + 1, raw, quoted: false });
  }
  return tokens;
}

/** A word or phrase must hold something both backends index, or it would mean different things. */
function textLeaf(kind: TextTerm['kind'], value: string, pos: number, input: string): QueryNode {
  const searchable = kind === 'word' && value.endsWith('*') && value.length > 1 ? value.slice(0, -1) : value;
  if (messageTokens(searchable).length === 0) {
    const shown = kind === 'phrase' ? `"${value}"` : value;
    fail(`${JSON.stringify(shown)} at position ${pos} has no letters or digits to search for`, input);
  }
  return { kind: 'text', term: { kind, value, negate: false } };
}

function termLeaf(token: Extract<Token, { kind: 'term' }>, input: string): QueryNode {
  if (token.quoted) return textLeaf('phrase', token.raw.trim(), token.pos, input);
  const raw = token.raw;
  const colon = raw.indexOf(':');
  const name = colon > 0 ? raw.slice(0, colon) : '';
  if (!(colon > 0 && isFieldName(name))) return textLeaf('word', raw, token.pos, input);
  let value = raw.slice(colon + 1);
  const quoted = value.length >= 2 && value.startsWith('"') && value.endsWith('"');
  if (quoted) value = value.slice(1, -1);
  if (value === '') fail(`${JSON.stringify(raw)} has a field but no value (write field:value)`, input);
  const field = FIELD_ALIASES[name] ?? name;
  // The message is text: its value is a phrase (quoted), a word, or a prefix, as anywhere else.
  if (field === 'message') return textLeaf(quoted && /\s/.test(value) ? 'phrase' : 'word', value, token.pos, input);
  const term: FieldTerm = { field, value: normalizeFieldValue(field, value), negate: false };
  if (!quoted && /[*?]/.test(value)) term.pattern = true;
  return { kind: 'field', term };
}

class Parser {
  private at = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly input: string,
  ) {}

  parse(): QueryNode | undefined {
    if (this.tokens.length === 0) return undefined;
    const node = this.or();
    const extra = this.tokens[this.at];
    if (extra !== undefined) fail(`unexpected ) at position ${extra.pos}`, this.input);
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  private or(): QueryNode {
    const children = [this.and()];
    while (this.peek()?.kind === 'or') {
      const op = this.tokens[this.at++];
      const next = this.peek();
      if (next === undefined || next.kind === 'close' || next.kind === 'or') fail(`OR at position ${op.pos} needs something after it`, this.input);
      children.push(this.and());
    }
    return children.length === 1 ? children[0] : { kind: 'or', children };
  }

  private and(): QueryNode {
    const children: QueryNode[] = [];
    for (let next = this.peek(); next !== undefined && next.kind !== 'or' && next.kind !== 'close'; next = this.peek()) {
      if (next.kind === 'and') {
        this.at++;
        const after = this.peek();
        if (children.length === 0) fail(`AND at position ${next.pos} needs something before it`, this.input);
        if (after === undefined || after.kind === 'or' || after.kind === 'close' || after.kind === 'and')
          fail(`AND at position ${next.pos} needs something after it`, this.input);
        continue;
      }
      children.push(this.unary());
    }
    if (children.length === 0) {
      const next = this.peek();
      if (next?.kind === 'or') fail(`OR at position ${next.pos} needs something before it`, this.input);
      fail(`empty ( ) at position ${next?.pos ?? this.input.length}`, this.input);
    }
    return children.length === 1 ? children[0] : { kind: 'and', children };
  }

  private unary(): QueryNode {
    const token = this.tokens[this.at++];
    if (token.kind === 'not') {
      const next = this.peek();
      if (next === undefined || next.kind === 'close' || next.kind === 'or' || next.kind === 'and')
        fail(`NOT at position ${token.pos} needs something after it`, this.input);
      const child = this.unary();
      return child.kind === 'not' ? child.child : { kind: 'not', child };
    }
    if (token.kind === 'open') {
      if (this.peek()?.kind === 'close') fail(`empty ( ) at position ${token.pos}`, this.input);
      const node = this.or();
      if (this.peek()?.kind !== 'close') fail(`unclosed ( at position ${token.pos}`, this.input);
      this.at++;
      return node;
    }
    if (token.kind === 'term') return termLeaf(token, this.input);
    return fail(`unexpected ${token.kind.toUpperCase()} at position ${token.pos}`, this.input);
  }
}

/** The query as a tree (undefined when empty). Throws a UsageError naming the position it could not read. */
export function parseQueryTree(input: string): QueryNode | undefined {
  return new Parser(lex(input), input).parse();
}

/** Plain terms of the top-level conjunction as flat lists; anything else stays a group. */
export function flattenQuery(root: QueryNode | undefined): ParsedText {
  const parsed: ParsedText = { text: [], fields: [] };
  const groups: QueryNode[] = [];
  const visit = (node: QueryNode): void => {
    if (node.kind === 'and') node.children.forEach(visit);
    else if (node.kind === 'text') parsed.text.push(node.term);
    else if (node.kind === 'field') parsed.fields.push(node.term);
    else if (node.kind === 'not' && node.child.kind === 'text') parsed.text.push({ ...node.child.term, negate: true });
    else if (node.kind === 'not' && node.child.kind === 'field') parsed.fields.push({ ...node.child.term, negate: true });
    else groups.push(node);
  };
  if (root !== undefined) visit(root);
  if (groups.length > 0) parsed.groups = groups;
  return parsed;
}

export function parseQueryText(input: string): ParsedText {
  return flattenQuery(parseQueryTree(input));
}

/** Every field a query's groups name (Elasticsearch asks how each is mapped). */
export function groupFields(nodes: readonly QueryNode[]): string[] {
  const fields: string[] = [];
  const visit = (node: QueryNode): void => {
    if (node.kind === 'field') fields.push(node.term.field);
    else if (node.kind === 'not') visit(node.child);
    else if (node.kind === 'and' || node.kind === 'or') node.children.forEach(visit);
  };
  nodes.forEach(visit);
  return fields;
}
