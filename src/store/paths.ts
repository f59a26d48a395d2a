/** Where the agent keeps its state, and where the local store lives inside it. */
import { join } from 'node:path';
import { ENV_VARS } from '../config/env-vars.js';

/**
 * The data dir when none is given: `/var/lib/logferry` in a cluster (the kubelet sets
 * KUBERNETES_SERVICE_HOST in every pod; the DaemonSet mounts a hostPath there), `./logferry-data` elsewhere,
 * so `logferry search` run from the folder the demo ran in finds what it stored.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  return env[ENV_VARS.KUBERNETES_SERVICE_HOST] ? '/var/lib/logferry' : 'logferry-data';
}

export function storeDir(dataDir: string): string {
  return join(dataDir, 'store');
}

/** One shard's database file (see shards.ts). */
export function storePath(dataDir: string, shard = 0): string {
  return join(storeDir(dataDir), `logs-${shard}.sqlite`);
}

/** The single file of stores written before the store was sharded (schema version 3 and older). */
export function unshardedStorePath(dataDir: string): string {
  return join(storeDir(dataDir), 'logs.sqlite');
}
