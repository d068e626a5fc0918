// A private nats-server with JetStream on file storage in the state folder.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnDetached } from './processes.ts';
import type { StackSettings } from './settings.ts';

export function natsUrl(settings: StackSettings): string {
  return `nats://127.0.0.1:${settings.ports.nats}`;
}

export function natsMonitorUrl(settings: StackSettings): string {
  return `http://127.0.0.1:${settings.ports.natsMonitor}`;
}

export function startNats(settings: StackSettings, binary: string): number {
  const storeDir = join(settings.paths.nats, 'jetstream');
  mkdirSync(storeDir, { recursive: true });
  const args = [
    '--addr',
    '127.0.0.1',
    '--port',
    String(settings.ports.nats),
    '--http_port',
    String(settings.ports.natsMonitor),
    '--jetstream',
    '--store_dir',
    storeDir,
    '--server_name',
    `local-${settings.profile}`,
  ];
  return spawnDetached(binary, args, { logFile: join(settings.paths.logs, 'nats.log') });
}

/** nats-server's own health endpoint; it answers 200 only when JetStream is ready too. */
export async function natsHealthy(monitorUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${monitorUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}
