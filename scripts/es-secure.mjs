// The secured test servers' side of scripts/es-runtime.mjs: certificates made with openssl at start (into
// the node's config dir under its data dir: nothing secret is committed), the security settings passed to
// the launcher, and the users (and, on Elasticsearch, an API key) made once the node answers.
//   es-8.19-secure          Elasticsearch 8.19.21 + x-pack security: HTTPS, native users, API keys
//   opensearch-2.19-secure  OpenSearch 2.19.4 + the opensearch-security plugin: HTTPS, internal users
// Users (fixed test passwords: these servers are loopback-only and throwaway):
//   admin   superuser (`elastic` on Elasticsearch, `admin` on OpenSearch): sets the others up
//   writer  what logferry needs to ship: index templates, ILM/ISM, create and write on every index
//   reader  monitor + read on every index: any write is a 403
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';

export const PASSWORDS = { admin: 'logferry-admin-pw', writer: 'logferry-writer-pw', reader: 'logferry-reader-pw' };

function openssl(args, cwd) {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.error) throw new Error(`openssl: ${result.error.message} (the secured test servers need openssl)`);
  if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.trim().split('\n').slice(-2).join(' ')}`);
}

/**
 * A CA and a certificate it signed for `hosts` (DNS names or IPs) in `dir`: `ca.crt`, `ca.key`, and
 * `<name>.crt` / `<name>.key` (PKCS#8, unencrypted). The CA is made once per dir; `name` files once per name.
 * Exported for tests that need a second, untrusted CA. Returns the paths.
 */
export function makeCertificates(dir, { name = 'node', hosts = ['localhost', '127.0.0.1'], subject = `/CN=${name}/O=logferry-test` } = {}) {
  mkdirSync(dir, { recursive: true });
  const paths = { ca: join(dir, 'ca.crt'), caKey: join(dir, 'ca.key'), cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  if (!existsSync(paths.ca)) {
    openssl(
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=logferry test CA/O=logferry-test', '-keyout', 'ca.key', '-out', 'ca.crt'],
      dir,
    );
  }
  if (!existsSync(paths.cert)) {
    const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n`);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '30',
        '-extfile',
        `${name}.ext`,
        '-out',
        `${name}.crt`,
      ],
      dir,
    );
  }
  return paths;
}

/** The node's certificate subject, as the OpenSearch security plugin writes DNs (nodes_dn). */
const NODE_DN = 'CN=node,O=logferry-test';

/** Elasticsearch: settings for the launcher (the config dir is `<dataDir>/home/config`; paths relative to it). */
function elasticsearchSettings() {
  const tls = (scope) => [
    `xpack.security.${scope}.ssl.enabled=true`,
    `xpack.security.${scope}.ssl.key=certs/node.key`,
    `xpack.security.${scope}.ssl.certificate=certs/node.crt`,
    `xpack.security.${scope}.ssl.certificate_authorities=certs/ca.crt`,
  ];
  return [
    'xpack.security.enabled=true',
    'xpack.license.self_generated.type=basic',
    // Enrollment and the auto-generated password are for first starts of a distribution.
    'xpack.security.autoconfiguration.enabled=false',
    'xpack.security.enrollment.enabled=false',
    ...tls('http'),
    ...tls('transport'),
    'xpack.security.transport.ssl.verification_mode=certificate',
    // SecureLauncher moves it into the secure settings: the `elastic` user's password until one is set.
    `bootstrap.password=${PASSWORDS.admin}`,
  ];
}

const yaml = (meta, body) => `_meta:\n  type: "${meta}"\n  config_version: 2\n${body}`;

/** OpenSearch: the plugin's security config files (read into its index on the first start) and settings. */
function openSearchSettings(configDir) {
  const dir = join(configDir, 'opensearch-security');
  mkdirSync(dir, { recursive: true });
  const files = {
    'config.yml': yaml(
      'config',
      `config:
  dynamic:
    http:
      anonymous_auth_enabled: false
    authc:
      basic_internal_auth_domain:
        http_enabled: true
        transport_enabled: true
        order: 0
        http_authenticator:
          type: basic
          challenge: true
        authentication_backend:
          type: intern
`,
    ),
    'roles.yml': yaml(
      'roles',
      `logferry_writer:
  cluster_permissions: ["cluster_monitor", "cluster_composite_ops", "indices:admin/template/*", "indices:admin/index_template/*", "cluster:admin/opendistro/ism/*", "cluster:admin/opensearch/ism/*"]
  index_permissions:
    - index_patterns: ["*"]
      allowed_actions: ["indices_all"]
logferry_reader:
  cluster_permissions: ["cluster_monitor", "cluster_composite_ops_ro"]
  index_permissions:
    - index_patterns: ["*"]
      allowed_actions: ["read", "indices_monitor", "indices:admin/mappings/get", "indices:admin/get"]
`,
    ),
    'roles_mapping.yml': yaml(
      'rolesmapping',
      `all_access:
  backend_roles: ["admin"]
logferry_writer:
  backend_roles: ["writer"]
logferry_reader:
  backend_roles: ["reader"]
`,
    ),
    'action_groups.yml': yaml('actiongroups', ''),
    'tenants.yml': yaml('tenants', ''),
    'nodes_dn.yml': yaml('nodesdn', ''),
    'allowlist.yml': yaml('allowlist', 'config:\n  enabled: false\n'),
    'audit.yml': yaml('audit', 'config:\n  enabled: false\n'),
  };
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  const tls = (scope) => [
    `plugins.security.ssl.${scope}.pemcert_filepath=certs/node.crt`,
    `plugins.security.ssl.${scope}.pemkey_filepath=certs/node.key`,
    `plugins.security.ssl.${scope}.pemtrustedcas_filepath=certs/ca.crt`,
  ];
  return [
    'plugins.security.ssl.http.enabled=true',
    ...tls('http'),
    ...tls('transport'),
    'plugins.security.ssl.transport.enforce_hostname_verification=false',
    `plugins.security.nodes_dn=${NODE_DN}`,
    'plugins.security.allow_default_init_securityindex=true',
    'plugins.security.restapi.roles_enabled=all_access',
    'plugins.security.audit.type=noop',
    'plugins.security.system_indices.enabled=true',
    // SecureLauncher (opensearch2-secure) hashes these into internal_users.yml, each user with a backend
    // role of its own name (mapped above).
    `logferry.internal_users=admin:${PASSWORDS.admin},writer:${PASSWORDS.writer},reader:${PASSWORDS.reader}`,
  ];
}

/**
 * Before the launcher starts: certificates (once per data dir) and the SETTING=VALUE arguments for a
 * secured server. `server.security` is 'xpack' or 'opensearch-security'.
 */
export function prepareSecureNode(server, dataDir) {
  const configDir = join(dataDir, 'home', 'config');
  const certs = makeCertificates(join(configDir, 'certs'));
  const settings = server.security === 'xpack' ? elasticsearchSettings() : openSearchSettings(configDir);
  return { settings, caFile: certs.ca };
}

/** One HTTPS JSON request trusting only `ca`. Resolves `{ status, body }` (body parsed when JSON); never rejects on a status. */
export function httpsJson(url, { method = 'GET', ca, auth, body, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = { accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    const req = request(url, { method, ca, headers, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // Not JSON: the text.
        }
        resolve({ status: res.statusCode, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function must(what, promise) {
  const { status, body } = await promise;
  if (status >= 300) throw new Error(`${what}: HTTP ${status} ${JSON.stringify(body).slice(0, 300)}`);
  return body;
}

/**
 * Once the node answers: the writer and reader users (idempotent: a restart on the same data finds them)
 * and, on Elasticsearch, an API key for the writer's privileges. Returns what the harness hands to tests.
 */
export async function setUpUsers(server, url, caFile) {
  const ca = readFileSync(caFile);
  const admin = { username: server.security === 'xpack' ? 'elastic' : 'admin', password: PASSWORDS.admin };
  const writer = { username: 'writer', password: PASSWORDS.writer };
  const reader = { username: 'reader', password: PASSWORDS.reader };
  let apiKey;
  if (server.security === 'xpack') {
    const call = (method, path, body) => must(`${method} ${path}`, httpsJson(`${url}${path}`, { method, ca, auth: admin, body }));
    await call('PUT', '/_security/role/logferry_writer', {
      cluster: ['monitor', 'manage_index_templates', 'manage_ilm', 'manage_pipeline', 'manage_own_api_key'],
      indices: [{ names: ['*'], privileges: ['all'], allow_restricted_indices: false }],
    });
    await call('PUT', '/_security/role/logferry_reader', {
      cluster: ['monitor'],
      indices: [{ names: ['*'], privileges: ['read', 'view_index_metadata', 'monitor'] }],
    });
    await call('PUT', '/_security/user/writer', { password: writer.password, roles: ['logferry_writer'] });
    await call('PUT', '/_security/user/reader', { password: reader.password, roles: ['logferry_reader'] });
    // Made by the writer, so it carries the writer's privileges (a key cannot exceed its owner's).
    const key = await must(
      'POST /_security/api_key',
      httpsJson(`${url}/_security/api_key`, { method: 'POST', ca, auth: writer, body: { name: 'logferry-test' } }),
    );
    apiKey = { id: key.id, encoded: key.encoded };
  }
  return { users: { admin, writer, reader }, apiKey };
}
