/**
 * Every environment variable logferry reads, in one place: the manifests' contract tests check that each
 * variable a manifest sets is listed here, and the loaders read only these.
 */
export const ENV_VARS = {
  /** node name from the Downward API (spec.nodeName): kubernetes.node.name, host.name, pod field selector */
  NODE_NAME: 'NODE_NAME',
  /** sidecar identity from the Downward API */
  POD_NAME: 'POD_NAME',
  POD_NAMESPACE: 'POD_NAMESPACE',
  POD_UID: 'POD_UID',
  /** sidecar: comma-separated globs of the application's log files */
  LOGFERRY_PATHS: 'LOGFERRY_PATHS',
  /** sidecar: Downward API labels file (default /etc/podinfo/labels) */
  LOGFERRY_PODINFO_LABELS: 'LOGFERRY_PODINFO_LABELS',
  /** sidecar: name of the application container (kubernetes.container.name) */
  LOGFERRY_APP_CONTAINER: 'LOGFERRY_APP_CONTAINER',
  LOGFERRY_CONFIG: 'LOGFERRY_CONFIG',
  LOGFERRY_DATA_DIR: 'LOGFERRY_DATA_DIR',
  LOGFERRY_PROFILE: 'LOGFERRY_PROFILE',
  LOGFERRY_LOG_LEVEL: 'LOGFERRY_LOG_LEVEL',
  /** self-logs: `json` (lines for machines) or `text` (for people); default text when stderr is a terminal */
  LOGFERRY_LOG_FORMAT: 'LOGFERRY_LOG_FORMAT',
  /** milliseconds added to the clock read-time stamps come from (tests run the agent "just after midnight") */
  LOGFERRY_CLOCK_OFFSET_MS: 'LOGFERRY_CLOCK_OFFSET_MS',
  ELASTICSEARCH_HOSTS: 'ELASTICSEARCH_HOSTS',
  ELASTICSEARCH_HOST: 'ELASTICSEARCH_HOST',
  ELASTICSEARCH_PORT: 'ELASTICSEARCH_PORT',
  ELASTICSEARCH_SCHEME: 'ELASTICSEARCH_SCHEME',
  FLUENT_ELASTICSEARCH_HOST: 'FLUENT_ELASTICSEARCH_HOST',
  FLUENT_ELASTICSEARCH_PORT: 'FLUENT_ELASTICSEARCH_PORT',
  ELASTICSEARCH_USERNAME: 'ELASTICSEARCH_USERNAME',
  ELASTICSEARCH_PASSWORD: 'ELASTICSEARCH_PASSWORD',
  ELASTICSEARCH_API_KEY: 'ELASTICSEARCH_API_KEY',
  ELASTICSEARCH_CA_FILE: 'ELASTICSEARCH_CA_FILE',
  ELASTICSEARCH_TLS_VERIFY: 'ELASTICSEARCH_TLS_VERIFY',
  /** true: send credentials to an http:// Elasticsearch that is not on this machine (clear text) */
  ELASTICSEARCH_ALLOW_INSECURE_CREDENTIALS: 'ELASTICSEARCH_ALLOW_INSECURE_CREDENTIALS',
  /** in-cluster detection and API address (set by the kubelet in every pod) */
  KUBERNETES_SERVICE_HOST: 'KUBERNETES_SERVICE_HOST',
  KUBERNETES_SERVICE_PORT: 'KUBERNETES_SERVICE_PORT',
  KUBECONFIG: 'KUBECONFIG',
} as const;

export const ALL_ENV_VARS: readonly string[] = Object.values(ENV_VARS);
