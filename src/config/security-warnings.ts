/**
 * Settings that work but weaken security, found at load time and shown once at start (`logferry:
 * warning:` lines, like deprecated keys): a secret in the configuration file, which in a cluster is a
 * ConfigMap that anyone allowed to read ConfigMaps can read; and TLS verification turned off, which lets
 * anyone on the path impersonate the server and collect the credentials and the logs.
 */
import { ENV_VARS } from './env-vars.js';
import type { ElasticsearchConfig, ElasticsearchFileInput } from '../sinks/elasticsearch/config.js';
import type { KubernetesConfigInput } from '../kubernetes/config.js';

const SECRET_ADVICE =
  `a configuration file usually lands in a ConfigMap, readable by anyone who may read ConfigMaps: put it in a Secret ` +
  `and pass it as ${ENV_VARS.ELASTICSEARCH_PASSWORD} / ${ENV_VARS.ELASTICSEARCH_API_KEY} (logferry manifests --es-secret NAME, Helm elasticsearch.secret)`;

export interface SecurityInputs {
  /** the file's name, as messages name it */
  configFile: string | undefined;
  fileElasticsearch: ElasticsearchFileInput | undefined;
  fileKubernetes: KubernetesConfigInput | undefined;
  /** the resolved output, undefined with the local store */
  elasticsearch: ElasticsearchConfig | undefined;
}

export function securityWarnings(inputs: SecurityInputs): string[] {
  const warnings: string[] = [];
  const file = inputs.configFile ?? 'the configuration file';
  const auth = inputs.fileElasticsearch?.auth;
  if (auth?.password !== undefined && auth.password !== '') warnings.push(`${file}: output.elasticsearch.auth.password: ${SECRET_ADVICE}`);
  if (auth?.apiKey !== undefined) warnings.push(`${file}: output.elasticsearch.auth.apiKey: ${SECRET_ADVICE}`);
  (inputs.fileElasticsearch?.hosts ?? []).forEach((host, i) => {
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(host.trim()))
      warnings.push(`${file}: output.elasticsearch.hosts[${i}] has a password in the URL: ${SECRET_ADVICE}`);
  });
  const es = inputs.elasticsearch;
  if (es !== undefined && !es.tls.verify && es.hosts.some((h) => h.protocol === 'https:')) {
    warnings.push(
      `Elasticsearch TLS verification is off (${ENV_VARS.ELASTICSEARCH_TLS_VERIFY}=false or output.elasticsearch.tls.verify: false): ` +
        `anyone on the path can impersonate the cluster and read the credentials and the logs; give its CA in ${ENV_VARS.ELASTICSEARCH_CA_FILE} instead`,
    );
  }
  if (inputs.fileKubernetes?.insecureSkipTlsVerify === true) {
    warnings.push(
      `${file}: kubernetes.insecureSkipTlsVerify: the API server's certificate is not verified: anyone on the path can impersonate it and ` +
        `read the service account token; give its CA in kubernetes.caFile instead`,
    );
  }
  return warnings;
}
