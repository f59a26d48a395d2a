/**
 * Runs the real `bin/logferry.js` as a child process, the way users and the DaemonSet run it, so tests
 * can kill -9 it, restart it and read its stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/logferry.js', import.meta.url));

export interface AgentProcessOptions {
  args: string[];
  env?: Record<string, string | undefined>;
}

export interface AgentProcess {
  child: ChildProcess;
  stderr(): string;
  stdout(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** peak resident set size seen by {@link sampleRss} calls, in bytes */
  rssSamples: number[];
  sampleRss(): number | undefined;
}

export function startAgentProcess(options: AgentProcessOptions): AgentProcess {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('ELASTICSEARCH_') && !key.startsWith('FLUENT_') && !key.startsWith('LOGFERRY_')) env[key] = value;
  }
  for (const [key, value] of Object.entries(options.env ?? {})) if (value !== undefined) env[key] = value;
  env.LOGFERRY_LOG_LEVEL ??= 'warn';
  // As the DaemonSet runs it (deploy/kubernetes/daemonset.yaml).
  env.NODE_OPTIONS ??= '--max-old-space-size=96';
  const child = spawn(process.execPath, [BIN, ...options.args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const rssSamples: number[] = [];
  return {
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    rssSamples,
    sampleRss() {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const match = /VmRSS:\s+(\d+) kB/.exec(status);
        if (!match) return undefined;
        const bytes = Number(match[1]) * 1024;
        rssSamples.push(bytes);
        return bytes;
      } catch {
        return undefined;
      }
    },
  };
}

/** Run to completion (e.g. --oneshot) and return exit code and output. */
export async function runAgent(options: AgentProcessOptions & { timeoutMs?: number }): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const agent = startAgentProcess(options);
  const timer = setTimeout(() => agent.child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const { code } = await agent.exited;
  clearTimeout(timer);
  return { code, stderr: agent.stderr(), stdout: agent.stdout() };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
