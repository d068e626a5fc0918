// Child processes for tests that exercise entry points and the CLI as a person would run them.
import { spawn, type ChildProcess } from 'node:child_process';
import { isAbsolute, join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');

export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Workers' health ports default to fixed numbers; tests start many side by side, so any free port. */
export const EPHEMERAL_HEALTH_PORTS = { SAGA_WORKER_HTTP_PORT: '0', RELAY_HTTP_PORT: '0', PROJECTOR_HTTP_PORT: '0' };

/**
 * Runs an entry point, collecting stdout+stderr: a TypeScript one through tsx, a compiled one
 * (`.js`, e.g. under dist/) with plain node. A relative path is taken from the repository root.
 */
export function startEntry(path: string, env: NodeJS.ProcessEnv, args: string[] = []): Started {
  const entry = isAbsolute(path) ? path : join(repoRoot, path);
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, entry, ...args], {
    cwd: repoRoot,
    env: { ...EPHEMERAL_HEALTH_PORTS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => text, exited };
}

export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const done = await check().catch((error: unknown) => {
      if (error instanceof Error && /exited/.test(error.message)) throw error;
      return false;
    });
    if (done) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}
