// Process plumbing for the local stack: start detached servers, find who holds a port, stop by pid.
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';

/** A failure the CLI prints as-is (what failed and what to do), without a stack trace. */
export class StackError extends Error {
  override readonly name = 'StackError';
}

const LOG_PUMP = join(dirname(fileURLToPath(import.meta.url)), 'log-pump.mjs');

/**
 * Starts `command` in its own session and returns its pid without waiting. Its output is appended
 * to `logFile`, or with `rotation` (e.g. LOG_ROTATION, as the deployables' logs) goes through a
 * named pipe to a log pump (cli/stack/log-pump.mjs) that writes bounded `<name>.<n>.log` files.
 */
export function spawnDetached(
  command: string,
  args: string[],
  options: {
    logFile: string;
    rotation?: { size: string; files: number };
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    uid?: number;
    gid?: number;
  },
): number {
  const log = options.rotation ? openLogPump(options.logFile, options.rotation) : openSync(options.logFile, 'a');
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: options.env ?? process.env,
      cwd: options.cwd,
      uid: options.uid,
      gid: options.gid,
    });
    if (child.pid === undefined) throw new StackError(`could not start ${command}; see ${options.logFile}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** Starts a log pump for `logFile` and returns the write end of its pipe, for the server's stdout and stderr. */
function openLogPump(logFile: string, rotation: { size: string; files: number }): number {
  const { dir, name } = parse(logFile);
  const fifo = join(dir, `.${name}.pipe`);
  rmSync(fifo, { force: true }); // a pipe of an earlier run may still have that run's pump reading it
  run('mkfifo', ['-m', '600', fifo], 'mkfifo');
  const pump = spawn(process.execPath, [LOG_PUMP, fifo, logFile, rotation.size, String(rotation.files)], {
    detached: true,
    stdio: 'ignore',
  });
  pump.unref();
  // Opening for writing waits for the pump to open for reading: then the server's output has a reader.
  return openSync(fifo, 'w');
}

/** The newest file of a log: `<name>.<n>.log` with the highest n when it rotates, else the file itself. */
export function newestLog(logFile: string): string {
  const { dir, name, ext } = parse(logFile);
  const numbered = (existsSync(dir) ? readdirSync(dir) : [])
    .map((file) => ({
      file,
      n: Number(new RegExp(`^${name}\\.(\\d+)${ext.replace('.', '\\.')}$`).exec(file)?.[1] ?? NaN),
    }))
    .filter((entry) => !Number.isNaN(entry.n))
    .sort((a, b) => b.n - a.n);
  return numbered[0] ? join(dir, numbered[0].file) : logFile;
}

/** Runs a command to completion; throws a StackError carrying its output when it fails. */
export function run(command: string, args: string[], what: string, options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.error) throw new StackError(`${what}: ${result.error.message}`);
  if (result.status !== 0) {
    const output = `${String(result.stdout ?? '')}${String(result.stderr ?? '')}`
      .trim()
      .split('\n')
      .slice(-15)
      .join('\n');
    throw new StackError(`${what} failed (exit ${result.status}):\n${output}`);
  }
  return String(result.stdout ?? '');
}

export function isAlive(pid: number | undefined): pid is number {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped) still answers kill 0; it is not running.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The pid and command line of the process listening on a TCP port, read from /proc (Linux). */
export function portOwner(port: number): { pid: number; command: string } | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      // State 0A is LISTEN; the local address ends in the port as four hex digits.
      if (local && cols[3] === '0A' && parseInt(local.split(':')[1] ?? '', 16) === port && cols[9]) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) {
        const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
        return { pid: Number(entry), command };
      }
    }
  }
  return undefined;
}

/** Fails with an actionable message when `port` is taken: who holds it and which variable moves us. */
export async function assertPortFree(port: number, component: string, envName: string): Promise<void> {
  if (await isPortFree(port)) return;
  const owner = portOwner(port);
  const who = owner ? `pid ${owner.pid} (${owner.command.slice(0, 80)})` : 'another process';
  throw new StackError(`${component}: port ${port} is in use by ${who}; set ${envName} to a free port`);
}

/** Polls `check` until it returns true or `timeoutMs` passes; then throws a StackError naming `what`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  hint = '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  throw new StackError(
    `${what} did not become healthy within ${Math.round(timeoutMs / 1000)} s${hint ? `; ${hint}` : ''}`,
  );
}

/** `signal` (SIGTERM by default), then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopPid(pid: number, graceMs = 15_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, signal);
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Last lines of a log file (its newest file when it rotates), for error messages. */
export function tail(file: string, lines = 12): string {
  try {
    return readFileSync(newestLog(file), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
