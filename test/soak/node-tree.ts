/**
 * The node's live log tree: every container's runtime, writing CRI lines with a unique marker per record
 * at its own rate, and the kubelet's rotation by rename. Writers run in this process (one timer for all
 * containers, every 50 ms), which is enough for a few thousand records/s and lets rotations and bursts
 * happen exactly between two writes.
 *
 * Rotation as the kubelet does it: rename `0.log` to `0.log.<YYYYMMDD-HHMMSS>`, then the runtime reopens
 * `0.log`. Sometimes the runtime writes once more into the renamed file before it reopens (it does between
 * the kubelet's rename and its ReopenContainerLog call), and meanwhile there is no `0.log` at all.
 * Rotated files are never deleted here: deleting unread files is a loss the node causes, another issue.
 */
import { closeSync, existsSync, openSync, renameSync, writeSync } from 'node:fs';
import { createContainerFiles, formatMessage, planContainer, type PodContainer } from '../helpers/log-tree.js';
import { markerOf, messageShape } from './messages.js';
import type { Rng } from './random.js';
import type { PodPlan } from './schedule.js';

/** What a record of this container must carry once the agent has the pod from the API. */
export interface ExpectedMetadata {
  app: string;
  podIp: string;
  image: string;
}

export interface SoakContainer {
  /** marker prefix: records are `seq=<tag>-<n>` */
  tag: string;
  files: PodContainer;
  podKey: string;
  linesPerSecond: number;
  expected: ExpectedMetadata;
  /** when the Pod object was added to the API; records written after it must carry metadata */
  podKnownAt: number;
  createdAfterKubeRestart: boolean;
  /** records written so far; markers are <tag>-0 … <tag>-(written-1) */
  written: number;
  longWritten: number;
  rotations: number;
  stopAt: number | undefined;
  fd: number;
  bytesInFile: number;
  credit: number;
  burstFactor: number;
  burstUntil: number;
  /** the runtime has not reopened `0.log` since the last rename: the next write goes to the renamed file */
  reopenPending: boolean;
}

export interface NodeTreeOptions {
  root: string;
  rotateAtBytes: number;
  lateReopenChance: number;
  rng: Rng;
}

const TICK_MS = 50;

export class NodeTree {
  readonly containers: SoakContainer[] = [];
  sizeRotations = 0;
  burstRotations = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastTick = Date.now();

  constructor(private readonly options: NodeTreeOptions) {}

  /** The pod's containers as the runtime will lay them out; nothing is created yet. */
  plan(pod: PodPlan): PodContainer[] {
    return pod.containers.map((c) => planContainer(this.options.root, pod.namespace, pod.name, c.name, 'cri', pod.uid));
  }

  /** Creates the pod's files and starts writing (call after its Pod object is in the API). */
  startPod(pod: PodPlan, files: PodContainer[], expected: ExpectedMetadata[], createdAfterKubeRestart: boolean): void {
    const now = Date.now();
    files.forEach((c, i) => {
      createContainerFiles(c);
      this.containers.push({
        tag: `${pod.app}c${i}`,
        files: c,
        podKey: `${pod.namespace}/${pod.name}`,
        linesPerSecond: pod.containers[i].linesPerSecond,
        expected: expected[i],
        podKnownAt: now,
        createdAfterKubeRestart,
        written: 0,
        longWritten: 0,
        rotations: 0,
        stopAt: pod.writesForMs === undefined ? undefined : now + pod.writesForMs,
        fd: openSync(c.logPath, 'a'),
        bytesInFile: 0,
        credit: 0,
        burstFactor: 1,
        burstUntil: 0,
        reopenPending: false,
      });
    });
  }

  start(): void {
    this.lastTick = Date.now();
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Stops every writer and closes the files; `written` counts are final after this. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const c of this.containers) {
      if (c.fd < 0) continue;
      if (c.reopenPending) this.reopen(c);
      closeSync(c.fd);
      c.fd = -1;
    }
  }

  get totalWritten(): number {
    return this.containers.reduce((n, c) => n + c.written, 0);
  }

  /** Writing containers (a finished one no longer writes; its files stay). */
  active(now = Date.now()): SoakContainer[] {
    return this.containers.filter((c) => c.fd >= 0 && (c.stopAt === undefined || now < c.stopAt));
  }

  /** Several containers write `factor` times faster for a while. */
  writeBurst(count: number, factor: number, durationMs: number, rng: Rng): string[] {
    const chosen = this.choose(count, rng);
    for (const c of chosen) {
      c.burstFactor = factor;
      c.burstUntil = Date.now() + durationMs;
    }
    return chosen.map((c) => c.tag);
  }

  /** Rotations in quick succession, a few lines written before each (a runtime never rotates an empty file). */
  async rotationBurst(count: number, rotations: number, spacingMs: number, linesBetween: number, rng: Rng): Promise<string[]> {
    const chosen = this.choose(count, rng);
    for (let r = 0; r < rotations; r++) {
      for (const c of chosen) {
        if (c.fd < 0) continue;
        this.write(c, linesBetween);
        this.rotate(c, false);
        this.burstRotations++;
      }
      if (r < rotations - 1) await new Promise((resolve) => setTimeout(resolve, spacingMs));
    }
    return chosen.map((c) => c.tag);
  }

  private choose(count: number, rng: Rng): SoakContainer[] {
    const pool = this.active();
    const chosen: SoakContainer[] = [];
    while (chosen.length < count && pool.length > 0) chosen.push(pool.splice(Math.floor(rng.next() * pool.length), 1)[0]);
    return chosen;
  }

  private tick(): void {
    const now = Date.now();
    const seconds = (now - this.lastTick) / 1000;
    this.lastTick = now;
    for (const c of this.active(now)) {
      const factor = now < c.burstUntil ? c.burstFactor : 1;
      const rate = c.linesPerSecond * factor;
      // Capped: after a stall (GC, a slow check) the writer resumes its rate instead of dumping a backlog.
      c.credit = Math.min(c.credit + rate * seconds, rate * 0.5 + 1);
      const lines = Math.floor(c.credit);
      if (lines === 0) continue;
      c.credit -= lines;
      this.write(c, lines);
      if (c.bytesInFile >= this.options.rotateAtBytes) {
        this.rotate(c, this.options.rng.chance(this.options.lateReopenChance));
        this.sizeRotations++;
      }
    }
  }

  /** `lines` records in one write(2), each message whole in this file (its pieces never straddle a rotation). */
  private write(c: SoakContainer, lines: number): void {
    const now = Date.now();
    let chunk = '';
    for (let i = 0; i < lines; i++) {
      const shape = messageShape(markerOf(c.tag, c.written));
      chunk += formatMessage(c.files, shape.text, shape.stream, now, shape.pieces);
      c.written++;
      if (shape.long) c.longWritten++;
    }
    const bytes = Buffer.from(chunk);
    writeSync(c.fd, bytes);
    c.bytesInFile += bytes.length;
    if (c.reopenPending) this.reopen(c);
  }

  /** The kubelet renames; the runtime reopens now, or after one more write into the renamed file. */
  private rotate(c: SoakContainer, lateReopen: boolean): void {
    if (c.reopenPending) this.reopen(c);
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    let target = `${c.files.logPath}.${stamp}`;
    // The kubelet rotates at most every 10 s, so its names never collide; bursts here can, within a second.
    for (let k = 1; existsSync(target); k++) target = `${c.files.logPath}.${stamp}-${k}`;
    renameSync(c.files.logPath, target);
    c.rotations++;
    if (lateReopen) c.reopenPending = true;
    else this.reopen(c);
  }

  private reopen(c: SoakContainer): void {
    closeSync(c.fd);
    c.fd = openSync(c.files.logPath, 'a');
    c.bytesInFile = 0;
    c.reopenPending = false;
  }
}
