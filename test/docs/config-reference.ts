/**
 * docs/configuration.md, generated from the schema itself (configSchema in load.ts), so the reference
 * cannot drift from what the loader accepts: `npm run docs:config` writes it, and a test fails when the
 * file differs from what this produces (a key added without regenerating, a default changed).
 *
 * Each key gets its type (with the bounds the schema checks), its default, an example value and its
 * description: `.describe()` when the schema has one, else the key's JSDoc comment in the source
 * (schema-comments.ts).
 */
import { z } from 'zod/v3';
import type { CommentIndex } from './schema-comments.js';

export interface KeyDoc {
  /** `pipeline.maxInflightBytes`, `inputs.files[].paths` */
  key: string;
  type: string;
  /** YAML flow value, or undefined when the key has no default */
  default?: string;
  example: string;
  description?: string;
}

/** Examples for keys whose type alone says too little (strings without a default, mostly). */
const EXAMPLES: Record<string, unknown> = {
  nodeName: 'node-1',
  dataDir: '/var/lib/logferry',
  'inputs.containers.paths': ['/var/log/containers/*_shop_*.log'],
  'inputs.containers.multiline': 'java',
  'inputs.containers.multiline.preset': 'java',
  'inputs.containers.multiline.flushTimeoutMs': 2000,
  'inputs.containers.multiline.maxLines': 200,
  'inputs.containers.multiline.maxBytes': 65536,
  'inputs.components.files': [{ path: '/var/log/kubelet.log', service: 'kubelet' }],
  'inputs.containers.multiline.start': '^\\d{4}-\\d{2}-\\d{2}',
  'inputs.containers.multiline.continue': '^\\s+at ',
  'inputs.components.files[].path': '/var/log/kubelet.log',
  'inputs.components.files[].service': 'kubelet',
  'inputs.components.timezone': 'Europe/Berlin',
  'inputs.files': [{ paths: ['/var/log/app/*.log'], service: 'billing' }],
  'inputs.files[].paths': ['/var/log/app/*.log'],
  'inputs.files[].multiline.start': '^\\d{4}-\\d{2}-\\d{2}',
  'inputs.files[].multiline.continue': '^\\s+at ',
  'inputs.files[].service': 'billing',
  'inputs.files[].multiline': 'python',
  'inputs.files[].multiline.preset': 'python',
  'inputs.files[].multiline.flushTimeoutMs': 2000,
  'inputs.files[].multiline.maxLines': 200,
  'inputs.files[].multiline.maxBytes': 65536,
  'inputs.journald.units': ['kubelet.service', 'containerd.service'],
  'inputs.journald.journalctl': '/usr/bin/journalctl',
  'inputs.journald.directory': '/var/log/journal',
  'kubernetes.nodeName': 'node-1',
  'kubernetes.apiServer': 'https://10.0.0.1:443',
  'kubernetes.kubeconfig': '/root/.kube/config',
  'kubernetes.tokenFile': '/var/run/secrets/kubernetes.io/serviceaccount/token',
  'kubernetes.caFile': '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
  'kubernetes.annotations': ['example.com/team', 'logferry.io/*'],
  'output.elasticsearch.hosts': ['https://es-1.example:9200', 'https://es-2.example:9200'],
  'output.elasticsearch.auth.username': 'logferry',
  'output.elasticsearch.auth.password': '${ELASTICSEARCH_PASSWORD}',
  'output.elasticsearch.auth.apiKey': 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==',
  'output.elasticsearch.tls.caFile': '/etc/logferry/ca.crt',
  'output.elasticsearch.index': 'logs-k8s',
  'output.elasticsearch.dataStream': 'logs-kubernetes.container_logs-default',
  'output.elasticsearch.deadLetterIndex': 'logs-k8s-deadletter',
  'output.elasticsearch.lifecycle.policy': 'logs-k8s-30d',
  'output.elasticsearch.headers': { 'X-Scope-OrgID': 'team-a' },
  'output.elasticsearch.replayCheckBytes': 0,
  'server.address': '0.0.0.0:2020',
};

interface Unwrapped {
  schema: z.ZodTypeAny;
  optional: boolean;
  default?: unknown;
  description?: string;
}

/** Through optional/default/refinement wrappers to the schema that says what the value is. */
function unwrap(schema: z.ZodTypeAny): Unwrapped {
  const out: Unwrapped = { schema, optional: false, description: schema.description };
  for (;;) {
    const current = out.schema;
    if (current instanceof z.ZodOptional) out.optional = true;
    else if (current instanceof z.ZodDefault) out.default ??= (current._def.defaultValue as () => unknown)();
    else if (!(current instanceof z.ZodEffects)) return out;
    out.schema = current instanceof z.ZodEffects ? (current._def.schema as z.ZodTypeAny) : (current._def.innerType as z.ZodTypeAny);
    out.description ??= out.schema.description;
  }
}

/** `integer ≥ 1024`, `integer 1–9`, `string (URL)`, `"a" | "b"`, `list of string` */
function typeOf(schema: z.ZodTypeAny): string {
  const inner = unwrap(schema).schema;
  if (inner instanceof z.ZodString) {
    const notes: string[] = [];
    for (const check of inner._def.checks) {
      if (check.kind === 'min' && check.value === 1) notes.push('not empty');
      else if (check.kind === 'url') notes.push('URL');
      else if (check.kind === 'regex') notes.push(`matching \`${check.regex.source}\``);
    }
    return notes.length > 0 ? `string (${notes.join(', ')})` : 'string';
  }
  if (inner instanceof z.ZodNumber) {
    const checks = inner._def.checks;
    const min = checks.find((c) => c.kind === 'min');
    const max = checks.find((c) => c.kind === 'max');
    const base = checks.some((c) => c.kind === 'int') ? 'integer' : 'number';
    const low = min && min.kind === 'min' ? (min.inclusive ? min.value : `>${min.value}`) : undefined;
    const high = max && max.kind === 'max' ? max.value : undefined;
    if (low !== undefined && high !== undefined) return `${base} ${low}–${high}`;
    if (low !== undefined) return low === `>0` ? `${base} > 0` : `${base} ≥ ${String(low).replace('>', '')}`;
    return high !== undefined ? `${base} ≤ ${high}` : base;
  }
  if (inner instanceof z.ZodBoolean) return 'boolean';
  if (inner instanceof z.ZodEnum) return (inner._def.values as string[]).map((v) => `"${v}"`).join(' | ');
  if (inner instanceof z.ZodLiteral) return JSON.stringify(inner._def.value);
  if (inner instanceof z.ZodArray) return `list of ${typeOf(inner._def.type as z.ZodTypeAny)}`;
  if (inner instanceof z.ZodObject) return 'object';
  if (inner instanceof z.ZodRecord) return `map of ${typeOf(inner._def.keyType as z.ZodTypeAny)} to ${typeOf(inner._def.valueType as z.ZodTypeAny)}`;
  if (inner instanceof z.ZodUnion) return (inner._def.options as z.ZodTypeAny[]).map(typeOf).join(' or ');
  return inner._def.typeName as string;
}

/** A value as YAML writes it inline. */
export function yamlValue(value: unknown): string {
  if (typeof value === 'string')
    return /^[\w./@:*+-]+$/.test(value) && !/^(true|false|null|yes|no|on|off|[\d.]+)$/i.test(value) ? value : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(yamlValue).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length === 0 ? '{}' : `{ ${entries.map(([k, v]) => `${k}: ${yamlValue(v)}`).join(', ')} }`;
  }
  return String(value);
}

/** A value of this type that is not the default: what a person would change it to. */
function exampleOf(key: string, schema: z.ZodTypeAny, fallback: unknown): unknown {
  if (key in EXAMPLES) return EXAMPLES[key];
  const inner = unwrap(schema).schema;
  if (inner instanceof z.ZodBoolean) return fallback === undefined ? true : !fallback;
  if (inner instanceof z.ZodEnum) return (inner._def.values as string[]).find((v) => v !== fallback) ?? fallback;
  if (inner instanceof z.ZodNumber && typeof fallback === 'number') return fallback * 2;
  if (inner instanceof z.ZodUnion) return exampleOf(key, inner._def.options[0] as z.ZodTypeAny, fallback);
  if (fallback !== undefined && !(Array.isArray(fallback) && fallback.length === 0)) return fallback;
  if (inner instanceof z.ZodString) return `<${key.split('.').pop()}>`;
  return fallback ?? '…';
}

/** The objects reachable from a schema (an object, a list of objects, a union with an object in it). */
function objectsIn(schema: z.ZodTypeAny): Array<{ object: z.AnyZodObject; suffix: string }> {
  const inner = unwrap(schema).schema;
  if (inner instanceof z.ZodObject) return [{ object: inner, suffix: '' }];
  if (inner instanceof z.ZodArray) return objectsIn(inner._def.type as z.ZodTypeAny).map((o) => ({ ...o, suffix: '[]' + o.suffix }));
  if (inner instanceof z.ZodUnion) return (inner._def.options as z.ZodTypeAny[]).flatMap(objectsIn);
  return [];
}

/** Every key of `schema`, depth first, in declaration order. */
export function describeKeys(schema: z.AnyZodObject, comments: CommentIndex, prefix = ''): KeyDoc[] {
  const shape = schema.shape as Record<string, z.ZodTypeAny>;
  const keyComments = comments.get(Object.keys(shape).join(','));
  const docs: KeyDoc[] = [];
  for (const [name, child] of Object.entries(shape)) {
    const key = prefix + name;
    const info = unwrap(child);
    // `{@link other}` in a comment names a sibling key: plain text here.
    const description = (info.description ?? keyComments?.get(name))?.replace(/\{@link\s+([^}]+)\}/g, '$1');
    docs.push({
      key,
      type: typeOf(child),
      default: info.default === undefined ? undefined : yamlValue(info.default),
      // An object's example is its keys' examples (the rows below it).
      example: objectsIn(child).length > 0 && !(key in EXAMPLES) ? '' : yamlValue(exampleOf(key, child, info.default)),
      description,
    });
    for (const { object, suffix } of objectsIn(child)) docs.push(...describeKeys(object, comments, `${key}${suffix}.`));
  }
  return docs;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string) => (text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``);

/** The whole of docs/configuration.md. */
export function configurationMarkdown(schema: z.AnyZodObject, comments: CommentIndex): string {
  const keys = describeKeys(schema, comments);
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from the schema (test/docs/config-reference.ts): do not edit; run `npm run docs:config`. -->',
    '',
    'The configuration file is YAML (`logferry run --config FILE`, or `LOGFERRY_CONFIG`); every key is',
    'optional. A dotted key is a nested one: `pipeline.maxInflightBytes: 16777216` is written',
    '',
    '```yaml',
    'pipeline:',
    '  maxInflightBytes: 16777216',
    '```',
    '',
    'and `inputs.files[].paths` is the `paths` of an entry of the list `inputs.files`. An unknown key is an',
    'error that names it (`logferry validate --config FILE` checks a file). Elasticsearch hosts and',
    'credentials can also come from the environment (`ELASTICSEARCH_HOSTS`, ...: see the README), which wins',
    'over the file.',
    '',
  ];
  // A key with keys under it heads its own section; the top level's plain values share one.
  const parents = new Set(
    keys.map((doc) => doc.key.split(/\.|\[\]/)[0]).filter((head) => keys.some((doc) => doc.key.startsWith(`${head}.`) || doc.key.startsWith(`${head}[]`))),
  );
  let section: string | undefined;
  for (const doc of keys) {
    const head = doc.key.split(/\.|\[\]/)[0];
    const top = parents.has(head) ? head : '(top level)';
    if (top !== section) {
      section = top;
      if (section !== undefined) lines.push('');
      lines.push(`## ${top === '(top level)' ? 'Top level' : `\`${top}\``}`, '', '| Key | Type | Default | Example | Description |', '|---|---|---|---|---|');
    }
    const example = doc.example === '' ? 'see below' : cell(code(doc.example));
    lines.push(
      `| ${code(doc.key)} | ${cell(doc.type)} | ${doc.default === undefined ? '—' : cell(code(doc.default))} | ${example} | ${cell(doc.description ?? '')} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}
