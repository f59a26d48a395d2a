/**
 * The configuration file's shape (YAML). Every object is strict: an unknown key is an error that names it.
 * Units are in the key names (`...Ms`, `...Bytes`). Component schemas owned by their folders are embedded.
 */
import { z } from 'zod/v3';
import { timezoneProblem } from '../parsers/contract.js';
import { MULTILINE_NAMES, multilineProblem } from '../parsers/multiline/options.js';
import { keyedProblem } from './problems.js';

const multilinePresets = z.enum(['auto', 'java', 'python', 'go', 'nodejs']);

// The parsers' own checks run here, so a bad expression is a configuration error (exit 2) instead of a
// per-file warning at run time that skips the file and still exits 0.
const multilineSchema = z
  .union([
    // `auto` (the default) joins the stack traces of every runtime; `off` joins nothing
    z.enum(MULTILINE_NAMES),
    z.strictObject({
      /** a built-in detector with the bounds below (instead of start / continue) */
      preset: multilinePresets.optional(),
      start: z.string().optional(),
      continue: z.string().optional(),
      flushTimeoutMs: z.number().int().positive().optional(),
      maxLines: z.number().int().positive().optional(),
      maxBytes: z.number().int().positive().optional(),
    }),
  ])
  .superRefine((options, ctx) => keyedProblem(ctx, multilineProblem(options)));

/** An IANA zone name the runtime's Intl knows (the glog parser would refuse every file otherwise). */
const timezoneSchema = z.string().superRefine((zone, ctx) => keyedProblem(ctx, timezoneProblem(zone)));

const messageParsing = z.enum(['auto', 'json', 'logfmt', 'none']);

export const containerInputSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** globs under --root; default /var/log/containers/*.log */
  paths: z.array(z.string().min(1)).default(['/var/log/containers/*.log']),
  /** where to start in files found at first start (`beginning` also reads their rotated, not yet compressed siblings); files appearing later are always read from the beginning */
  readFrom: z.enum(['beginning', 'end']).default('beginning'),
  message: messageParsing.default('auto'),
  multiline: multilineSchema.optional(),
});

export const componentFileSchema = z.strictObject({
  path: z.string().min(1),
  service: z.string().min(1),
  format: z.enum(['glog', 'logrus', 'plain']).default('glog'),
});

export const DEFAULT_COMPONENT_FILES = [
  { path: '/var/log/kubelet.log', service: 'kubelet', format: 'glog' },
  { path: '/var/log/kube-proxy.log', service: 'kube-proxy', format: 'glog' },
  { path: '/var/log/kube-apiserver.log', service: 'kube-apiserver', format: 'glog' },
  { path: '/var/log/kube-controller-manager.log', service: 'kube-controller-manager', format: 'glog' },
  { path: '/var/log/kube-scheduler.log', service: 'kube-scheduler', format: 'glog' },
  { path: '/var/log/docker.log', service: 'docker', format: 'logrus' },
] as const;

export const componentInputSchema = z.strictObject({
  enabled: z.boolean().default(true),
  files: z.array(componentFileSchema).default(DEFAULT_COMPONENT_FILES.map((f) => ({ ...f }))),
  /** time zone (IANA name) of times written without one: glog headers, and zone-less times in the lines of plain files (sidecar, --input, inputs.files) */
  timezone: timezoneSchema.default('UTC'),
});

export const fileInputSchema = z.strictObject({
  paths: z.array(z.string().min(1)).min(1),
  format: z.enum(['plain', 'cri', 'docker-json', 'glog', 'logrus', 'auto']).default('plain'),
  message: messageParsing.default('auto'),
  multiline: multilineSchema.optional(),
  service: z.string().optional(),
});

export const journaldInputSchema = z.strictObject({
  enabled: z.boolean().default(false),
  units: z.array(z.string().min(1)).default(['kubelet.service', 'containerd.service', 'docker.service']),
  journalctl: z.string().default('journalctl'),
  directory: z.string().optional(),
});

export const pipelineSchema = z.strictObject({
  /** bound on bytes read but not yet acknowledged by the sink (backpressure) */
  maxInflightBytes: z
    .number()
    .int()
    .min(64 * 1024)
    .default(8 * 1024 * 1024),
  /** bytes read from one file per turn, so one chatty container cannot starve the others */
  readChunkBytes: z
    .number()
    .int()
    .min(4096)
    .default(256 * 1024),
  /** longest record; longer ones are cut and flagged */
  maxRecordBytes: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** how often file globs are rescanned (watch events can be lost) */
  rescanIntervalMs: z.number().int().positive().default(2000),
  /** how often committed offsets are written to disk */
  checkpointIntervalMs: z.number().int().positive().default(1000),
  /** SIGTERM: time to flush and commit before exiting */
  shutdownGraceMs: z.number().int().positive().default(25000),
  /** an output that stays unavailable is reported this often (URL, reason, bytes behind) until it answers */
  outputReportIntervalMs: z.number().int().min(100).default(30000),
  /** in-flight budget full with no acknowledgement for this long: /readyz turns red (pipeline stalled) */
  stallAfterMs: z.number().int().min(1000).default(120_000),
  // maxRotatedFilesPerContainer was accepted but never applied: see ./deprecated.ts.
});

export const serverSchema = z.strictObject({
  /** host:port for /metrics, /healthz, /readyz; empty string disables */
  address: z.string().default('127.0.0.1:2020'),
});

export const localStoreSchema = z.strictObject({
  /** a record is kept this many days from when it was stored (whatever its own @timestamp) */
  retentionDays: z.number().positive().default(7),
  /** over this size, what was stored first goes first */
  maxBytes: z
    .number()
    .int()
    .positive()
    .default(2 * 1024 * 1024 * 1024),
});
