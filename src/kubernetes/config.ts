/**
 * The `kubernetes:` section of the configuration: where the API server is, what metadata to add and how
 * patient to be with it. Units are in the key names.
 */
import { z } from 'zod/v3';

export const kubernetesBackoffSchema = z.strictObject({
  /** first reconnect delay after a failure; each further failure doubles it (jittered, never below half) */
  minMs: z.number().int().positive().default(500),
  /** ceiling of the reconnect delay */
  maxMs: z.number().int().positive().default(30_000),
});

export const kubernetesConfigSchema = z
  .strictObject({
    /** false: records keep the metadata their file name gives (namespace, pod, container, ids) */
    enabled: z.boolean().default(true),
    /** this node's name (pods are watched with `spec.nodeName=<it>`); default: the top-level nodeName / NODE_NAME */
    nodeName: z.string().min(1).optional(),
    /** API server URL, e.g. https://10.0.0.1:443; default: in-cluster service, else the kubeconfig */
    apiServer: z.string().url().optional(),
    /** kubeconfig file used outside a cluster; default: KUBECONFIG, then ~/.kube/config */
    kubeconfig: z.string().min(1).optional(),
    /** bearer token file (re-read on every connection, so rotated tokens are picked up); default: the service account's */
    tokenFile: z.string().min(1).optional(),
    /** PEM CA bundle that signed the API server's certificate; default: the service account's ca.crt */
    caFile: z.string().min(1).optional(),
    /** skip certificate verification; must be explicit */
    insecureSkipTlsVerify: z.boolean().default(false),
    /** send the bearer token to an http:// API server that is not this machine (clear text); must be explicit */
    allowInsecureCredentials: z.boolean().default(false),
    /** pod annotation keys copied to kubernetes.annotations.* (dedotted); `prefix/*` matches a whole prefix */
    annotations: z.array(z.string().min(1)).default([]),
    /** how long a batch may wait for a pod that is not (yet) in the cache; 0 disables waiting */
    waitForPodMs: z.number().int().min(0).max(60_000).default(2000),
    /** metadata of a deleted pod is kept this long after deletion (and while its files are still read) */
    deletedPodGraceMs: z.number().int().min(0).default(60_000),
    /** server-side watch timeout; each watch picks a random value in [this, 2 × this) so reconnects spread out */
    watchTimeoutSeconds: z.number().int().min(1).max(3600).default(300),
    /** timeout for a list request and for response headers */
    requestTimeoutMs: z.number().int().positive().default(30_000),
    /** how long start() waits for the first list before the agent starts shipping without metadata */
    startTimeoutMs: z.number().int().min(0).default(5000),
    backoff: kubernetesBackoffSchema.default({}),
  })
  .refine((c) => c.backoff.minMs <= c.backoff.maxMs, { message: 'backoff.minMs must not exceed backoff.maxMs', path: ['backoff', 'minMs'] });

export type KubernetesConfig = z.infer<typeof kubernetesConfigSchema>;
export type KubernetesConfigInput = z.input<typeof kubernetesConfigSchema>;
