/**
 * The demo's node: a log tree laid out like a real one (CRI and docker json-file container logs behind
 * /var/log/containers symlinks, kubelet/kube-proxy glog files, the docker daemon's logrus file), written
 * to continuously with realistic lines, stack traces, and rotation — so `logferry tail -f` has something
 * live to show.
 */
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface DemoContainer {
  namespace: string;
  pod: string;
  container: string;
  format: 'cri' | 'docker';
  style: 'http' | 'json' | 'java' | 'python' | 'worker';
  dir: string;
  file: string;
  written: number;
}

const PODS: Array<Omit<DemoContainer, 'dir' | 'file' | 'written'>> = [
  { namespace: 'shop', pod: 'frontend-7d4b9c8f6d-x2x9z', container: 'nginx', format: 'cri', style: 'http' },
  { namespace: 'shop', pod: 'checkout-5f6c7b8d9-q7w8e', container: 'checkout', format: 'cri', style: 'json' },
  { namespace: 'shop', pod: 'orders-0', container: 'orders', format: 'cri', style: 'java' },
  { namespace: 'billing', pod: 'invoices-6b7c8d9f5-m3n4b', container: 'invoices', format: 'docker', style: 'python' },
  { namespace: 'billing', pod: 'payments-worker-4x8kq', container: 'worker', format: 'cri', style: 'worker' },
  { namespace: 'kube-system', pod: 'coredns-5d78c9869d-abcde', container: 'coredns', format: 'cri', style: 'worker' },
];

/**
 * The labels the demo's pods would have in a cluster. There is no API server in the demo, so the demo adds
 * them itself (see demo/labels.ts): label selectors (`-l app=web,tier!=db`) work on its records too.
 */
export const DEMO_POD_LABELS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'frontend-7d4b9c8f6d-x2x9z': { app: 'web', tier: 'frontend', 'app.kubernetes.io/name': 'frontend' },
  'checkout-5f6c7b8d9-q7w8e': { app: 'checkout', tier: 'backend', 'app.kubernetes.io/name': 'checkout' },
  'orders-0': { app: 'orders', tier: 'backend', 'app.kubernetes.io/name': 'orders' },
  'invoices-6b7c8d9f5-m3n4b': { app: 'invoices', tier: 'backend', 'app.kubernetes.io/name': 'invoices' },
  'payments-worker-4x8kq': { app: 'payments', tier: 'worker', 'app.kubernetes.io/name': 'payments' },
  'coredns-5d78c9869d-abcde': { 'k8s-app': 'kube-dns' },
};

const PATHS = ['/', '/cart', '/api/v1/products', '/api/v1/orders', '/healthz', '/login'];
const STATUSES = [200, 200, 200, 200, 201, 304, 404, 500];

function criTime(date: Date, n: number): string {
  return date.toISOString().slice(0, 19) + '.' + String(date.getMilliseconds() * 1_000_000 + (n % 1_000_000)).padStart(9, '0') + 'Z';
}

function messagesFor(c: DemoContainer, n: number): Array<{ stream: 'stdout' | 'stderr'; text: string }> {
  switch (c.style) {
    case 'http': {
      const status = STATUSES[n % STATUSES.length];
      return [{ stream: 'stdout', text: `10.244.1.${n % 250} - - "GET ${PATHS[n % PATHS.length]} HTTP/1.1" ${status} ${200 + (n % 4000)} "-" "Mozilla/5.0"` }];
    }
    case 'json': {
      const level = n % 17 === 0 ? 'error' : n % 5 === 0 ? 'warn' : 'info';
      return [
        {
          stream: 'stdout',
          text: JSON.stringify({
            level,
            msg: level === 'error' ? 'payment declined' : 'checkout step completed',
            order_id: 10_000 + n,
            step: ['cart', 'address', 'payment'][n % 3],
            duration_ms: n % 900,
          }),
        },
      ];
    }
    case 'java':
      if (n % 25 === 0) {
        return [
          { stream: 'stderr', text: 'Exception in thread "main" java.lang.IllegalStateException: order ' + n + ' has no items' },
          { stream: 'stderr', text: '\tat com.example.orders.OrderService.place(OrderService.java:87)' },
          { stream: 'stderr', text: '\tat com.example.orders.OrderController.create(OrderController.java:42)' },
          { stream: 'stderr', text: 'Caused by: java.util.NoSuchElementException: cart is empty' },
          { stream: 'stderr', text: '\t... 12 more' },
        ];
      }
      return [{ stream: 'stdout', text: `2026-11-24 INFO  [http-nio-8080-exec-${n % 10}] c.e.orders.OrderService - order ${n} placed` }];
    case 'python':
      if (n % 30 === 0) {
        return [
          { stream: 'stderr', text: 'Traceback (most recent call last):' },
          { stream: 'stderr', text: '  File "/app/invoices/render.py", line 54, in render' },
          { stream: 'stderr', text: '    total = sum(line.amount for line in invoice.lines)' },
          { stream: 'stderr', text: "TypeError: unsupported operand type(s) for +: 'int' and 'NoneType'" },
        ];
      }
      return [{ stream: 'stdout', text: `INFO:invoices:rendered invoice INV-${20_000 + n} in ${n % 300}ms` }];
    default:
      return [
        { stream: n % 11 === 0 ? 'stderr' : 'stdout', text: `job ${n} processed queue=${['emails', 'payments', 'reports'][n % 3]} attempts=${1 + (n % 3)}` },
      ];
  }
}

export class DemoNode {
  private readonly containers: DemoContainer[] = [];
  private n = 0;
  private timer: NodeJS.Timeout | undefined;
  written = 0;

  constructor(readonly root: string) {}

  create(): void {
    rmSync(this.root, { recursive: true, force: true });
    const links = join(this.root, 'var/log/containers');
    mkdirSync(links, { recursive: true });
    for (const spec of PODS) {
      const uid = randomUUID();
      const dir = join(this.root, 'var/log/pods', `${spec.namespace}_${spec.pod}_${uid}`, spec.container);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, '0.log');
      writeFileSync(file, '');
      const id = createHash('sha256').update(uid).digest('hex');
      symlinkSync(file, join(links, `${spec.pod}_${spec.namespace}_${spec.container}-${id}.log`));
      this.containers.push({ ...spec, dir, file, written: 0 });
    }
    writeFileSync(join(this.root, 'var/log/kubelet.log'), '');
    writeFileSync(join(this.root, 'var/log/kube-proxy.log'), '');
    writeFileSync(join(this.root, 'var/log/docker.log'), '');
  }

  /** Write one round of lines to every file. */
  tick(linesPerContainer = 3): void {
    const now = new Date();
    for (const c of this.containers) {
      let text = '';
      for (let i = 0; i < linesPerContainer; i++) {
        const n = this.n++;
        for (const { stream, text: message } of messagesFor(c, n)) {
          const ts = criTime(now, n);
          text += c.format === 'cri' ? `${ts} ${stream} F ${message}\n` : JSON.stringify({ log: message + '\n', stream, time: ts }) + '\n';
          this.written++;
        }
      }
      appendFileSync(c.file, text);
      c.written += linesPerContainer;
      if (c.written >= 2000) this.rotate(c);
    }
    const mmdd = String(now.getUTCMonth() + 1).padStart(2, '0') + String(now.getUTCDate()).padStart(2, '0');
    const time = now.toISOString().slice(11, 23) + '000';
    const level = this.n % 13 === 0 ? 'W' : 'I';
    appendFileSync(
      join(this.root, 'var/log/kubelet.log'),
      `${level}${mmdd} ${time}    2187 kubelet.go:${2400 + (this.n % 50)}] "SyncLoop (PLEG): event for pod" pod="shop/frontend-7d4b9c8f6d-x2x9z" event="ContainerStarted"\n`,
    );
    appendFileSync(join(this.root, 'var/log/kube-proxy.log'), `I${mmdd} ${time}       1 proxier.go:${800 + (this.n % 20)}] "Syncing iptables rules"\n`);
    appendFileSync(
      join(this.root, 'var/log/docker.log'),
      `time="${now.toISOString()}" level=info msg="Container health status changed" container=${this.n % 1000}\n`,
    );
    this.written += 3;
  }

  /** kubelet-style rotation: rename to 0.log.<timestamp>, keep two rotated files. */
  private rotate(c: DemoContainer): void {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const rotated = `${c.file}.${stamp}`;
    if (!existsSync(rotated)) renameSync(c.file, rotated);
    writeFileSync(c.file, '');
    c.written = 0;
    const old = readdirSync(c.dir)
      .filter((f) => f.startsWith('0.log.'))
      .sort();
    for (const f of old.slice(0, Math.max(0, old.length - 2))) rmSync(join(c.dir, f), { force: true });
  }

  start(intervalMs = 250): void {
    this.timer = setInterval(() => this.tick(), intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
