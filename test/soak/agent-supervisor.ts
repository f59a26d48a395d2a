/**
 * The agent across its lives: each start gets the next life's configuration (a small in-flight budget in
 * some, a short shutdown deadline in others), runs the real bin/logferry.js with the DaemonSet's heap cap
 * (test/helpers/agent-process.ts), and ends by kill -9 or SIGTERM when the schedule says so. An exit
 * nobody asked for is recorded as a crash and the agent is started again, as the kubelet would.
 * RSS is sampled every 500 ms whatever the life, for the peak overall and late in the run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAgentProcess, type AgentProcess } from '../helpers/agent-process.js';
import type { AgentLife } from './schedule.js';

export interface SupervisorOptions {
  root: string;
  dataDir: string;
  /** where config files and each life's stderr go */
  workDir: string;
  nodeName: string;
  elasticsearchUrl: string;
  /** the `kubernetes:` section (FakeCluster.yaml) */
  kubernetesYaml: string;
  lives: AgentLife[];
  log: (line: string) => void;
}

export interface LifeRecord {
  index: number;
  life: AgentLife;
  startedAt: number;
  endedAt?: number;
  /** how it ended: what we did, or 'crash' */
  end?: 'kill9' | 'sigterm' | 'crash' | 'final';
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  /** error-level log lines (pino level 50+) */
  errorLines: number;
}

export interface RssSample {
  at: number;
  bytes: number;
}

export class AgentSupervisor {
  readonly history: LifeRecord[] = [];
  readonly rss: RssSample[] = [];
  crashes = 0;
  private current: { agent: AgentProcess; record: LifeRecord; stopping: boolean } | undefined;
  private sampler: NodeJS.Timeout | undefined;

  constructor(private readonly options: SupervisorOptions) {}

  get running(): boolean {
    return this.current !== undefined;
  }

  /** The running life's settings (they decide what a SIGTERM means: a short deadline or not). */
  get currentLife(): AgentLife | undefined {
    return this.current?.record.life;
  }

  /** when the running life started */
  get currentStartedAt(): number | undefined {
    return this.current?.record.startedAt;
  }

  start(): void {
    if (this.current) return;
    const index = this.history.length;
    const life = this.options.lives[Math.min(index, this.options.lives.length - 1)];
    const config = join(this.options.workDir, `agent-${index}.yaml`);
    writeFileSync(
      config,
      [
        'inputs:',
        '  components:',
        '    enabled: false',
        // Not the default 127.0.0.1:2020: other tests' agents may hold it.
        'server:',
        "  address: ''",
        'pipeline:',
        `  maxInflightBytes: ${life.maxInflightBytes}`,
        `  shutdownGraceMs: ${life.shutdownGraceMs}`,
        this.options.kubernetesYaml,
        '',
      ].join('\n'),
    );
    const agent = startAgentProcess({
      args: ['run', '--root', this.options.root, '--data-dir', this.options.dataDir, '--config', config],
      env: { ELASTICSEARCH_HOSTS: this.options.elasticsearchUrl, NODE_NAME: this.options.nodeName },
    });
    const record: LifeRecord = { index, life, startedAt: Date.now(), errorLines: 0 };
    this.history.push(record);
    const current = { agent, record, stopping: false };
    this.current = current;
    void agent.exited.then((exit) => {
      record.exit = exit;
      record.endedAt = Date.now();
      const stderr = agent.stderr();
      record.errorLines = stderr.split('\n').filter((line) => /"level":(50|60)/.test(line)).length;
      writeFileSync(join(this.options.workDir, `agent-${index}.stderr.log`), stderr);
      if (this.current === current) this.current = undefined;
      if (!current.stopping) {
        record.end = 'crash';
        this.crashes++;
        this.options.log(`agent life ${index} exited by itself (code ${exit.code}, signal ${exit.signal}); restarting it. stderr tail: ${stderr.slice(-400)}`);
        this.start();
      }
    });
    this.sampler ??= setInterval(() => this.sample(), 500);
  }

  /** kill -9: nothing flushed, nothing saved beyond what already was. */
  async kill9(): Promise<LifeRecord | undefined> {
    return this.end('kill9', 'SIGKILL');
  }

  /** SIGTERM and wait for the exit (bounded by the life's shutdownGraceMs, plus slack for a hung agent). */
  async sigterm(end: 'sigterm' | 'final' = 'sigterm'): Promise<LifeRecord | undefined> {
    return this.end(end, 'SIGTERM');
  }

  /** Cleanup after a failed run: kill -9 whatever runs, even mid-shutdown, and start nothing again. */
  async forceKill(): Promise<void> {
    const current = this.current;
    if (!current) return;
    current.stopping = true;
    current.agent.child.kill('SIGKILL');
    await current.agent.exited;
  }

  stopSampling(): void {
    clearInterval(this.sampler);
    this.sampler = undefined;
  }

  private async end(end: 'kill9' | 'sigterm' | 'final', signal: NodeJS.Signals): Promise<LifeRecord | undefined> {
    const current = this.current;
    // Already being stopped: a second SIGTERM would kill it by the signal's default action mid-shutdown.
    if (!current || current.stopping) return undefined;
    current.stopping = true;
    current.record.end = end;
    current.agent.child.kill(signal);
    if (signal === 'SIGTERM') {
      // An agent that outlives its own deadline by far is hung: kill it, and say so in the record.
      const timer = setTimeout(() => current.agent.child.kill('SIGKILL'), current.record.life.shutdownGraceMs + 15_000);
      await current.agent.exited;
      clearTimeout(timer);
    } else {
      await current.agent.exited;
    }
    // The exit handler ran first (it was registered first); wait for its bookkeeping to be visible.
    await new Promise((resolve) => setImmediate(resolve));
    return current.record;
  }

  private sample(): void {
    const bytes = this.current?.agent.sampleRss();
    if (bytes !== undefined) this.rss.push({ at: Date.now(), bytes });
    // agent-process keeps every sample; the soak keeps its own series, so trim the per-process one.
    if (this.current && this.current.agent.rssSamples.length > 100) this.current.agent.rssSamples.splice(0, 50);
  }
}
