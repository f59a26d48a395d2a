/**
 * The agent's HTTP endpoint: /metrics (Prometheus text), /healthz (the process works), /readyz (it can
 * deliver: the sink is reachable). Bound to 127.0.0.1 by default; the DaemonSet binds 0.0.0.0 for probes.
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { UsageError } from '../cli/errors.js';

export interface HealthSource {
  live(): boolean;
  ready(): { ready: boolean; reason?: string };
}

export function parseListenAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = colon > 0 ? address.slice(0, colon).replace(/^\[|\]$/g, '') : '127.0.0.1';
  const port = Number(colon >= 0 ? address.slice(colon + 1) : address);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`server.address: port must be 0-65535 (got ${JSON.stringify(address)})`);
  }
  return { host, port };
}

export async function startHttpServer(address: string, registry: Registry, health: HealthSource): Promise<{ server: Server; port: number }> {
  const { host, port } = parseListenAddress(address);
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/metrics')) {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(error));
        },
      );
      return;
    }
    if (url.startsWith('/healthz')) {
      const ok = health.live();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? 'ok\n' : 'not live\n');
      return;
    }
    if (url.startsWith('/readyz')) {
      const { ready, reason } = health.ready();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ready ? 'ready\n' : `not ready: ${reason ?? 'unknown'}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  return { server, port: typeof bound === 'object' && bound ? bound.port : port };
}
