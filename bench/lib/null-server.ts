/** Start the null bulk endpoint (bench/null-bulk-server.ts) in its own process: its CPU is not the agent's. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export async function startNullBulkServer(): Promise<{ url: string; child: ChildProcess; stop(): void }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../null-bulk-server.js', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.setEncoding('utf8').once('data', (line: string) => resolve(JSON.parse(line).port as number));
    child.once('exit', (code) => reject(new Error(`null bulk server exited ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child, stop: () => child.kill() };
}
