/**
 * A log-writing process for rotation tests: appends numbered lines at a steady rate and rotates the file
 * the way a runtime or logrotate does, then exits. Run as:
 *   node writer-process.js <path> <count> <linesPerSecond> <format cri|glog|plain> <rotate none|rename|copytruncate> <rotateEveryLines> <tag>
 * Each line carries `seq=<tag>-<n>` so a test can check every line arrived exactly once.
 */
import { closeSync, copyFileSync, ftruncateSync, openSync, renameSync, writeSync } from 'node:fs';

const [path, countArg, rateArg, format, rotate, everyArg, tag] = process.argv.slice(2);
const count = Number(countArg);
const rate = Number(rateArg);
const every = Number(everyArg);

function line(n: number): string {
  const now = new Date();
  const seq = `seq=${tag}-${n}`;
  if (format === 'cri') {
    const ts = now.toISOString().slice(0, 19) + '.' + String(now.getMilliseconds() * 1_000_000 + (n % 1_000_000)).padStart(9, '0') + 'Z';
    return `${ts} stdout F writer line ${seq} payload ${'x'.repeat(n % 50)}\n`;
  }
  if (format === 'glog') {
    const mm = String(now.getUTCMonth() + 1).padStart(2, '0');
    const dd = String(now.getUTCDate()).padStart(2, '0');
    const time = now.toISOString().slice(11, 23) + '000';
    return `I${mm}${dd} ${time}    1234 writer.go:${(n % 900) + 10}] writer line ${seq}\n`;
  }
  return `${now.toISOString()} writer line ${seq}\n`;
}

let fd = openSync(path, 'a');
let rotations = 0;
const batch = Math.max(1, Math.round(rate / 100));
let n = 0;
const started = Date.now();

function rotateNow(): void {
  rotations++;
  if (rotate === 'rename') {
    closeSync(fd);
    renameSync(path, `${path}.${String(rotations).padStart(4, '0')}`);
    fd = openSync(path, 'a');
  } else if (rotate === 'copytruncate') {
    copyFileSync(path, `${path}.${rotations}`);
    ftruncateSync(fd, 0);
  }
}

function tick(): void {
  const due = Math.min(count, Math.floor(((Date.now() - started) / 1000) * rate) + batch);
  let chunk = '';
  while (n < due) {
    chunk += line(n);
    n++;
    if (rotate !== 'none' && every > 0 && n % every === 0) {
      writeSync(fd, chunk);
      chunk = '';
      rotateNow();
    }
  }
  if (chunk) writeSync(fd, chunk);
  if (n >= count) {
    closeSync(fd);
    process.stdout.write(JSON.stringify({ written: n, rotations }) + '\n');
    return;
  }
  setTimeout(tick, 10);
}
tick();
