// A private nats-server with JetStream on file storage in the state folder, with authentication:
// one user per process of every topology of the platform model (its subject permissions from
// platform/nats-authorization.ts) and an administrator for the CLI and the tests. The passwords
// are generated once into the state folder's secrets (mode 0600), never into the repository.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { authorizationBlock } from '../../platform/nats-authorization.ts';
import type { DeployableName } from '../../runtime/deployable.ts';
import { eventsStreamEnv } from '../../runtime/events-stream.ts';
import { LOG_ROTATION } from '../../runtime/logger.ts';
import { spawnDetached } from './processes.ts';
import { localStackModel, type StackSettings } from './settings.ts';

/** The identity of the CLI, the bench and the tests: no subject restrictions. */
export const NATS_ADMIN = 'admin';

/** The users of the local nats-server: each process name of each topology, with its deployables. */
function natsUsers(): Map<string, DeployableName[] | undefined> {
  const users = new Map<string, DeployableName[] | undefined>([[NATS_ADMIN, undefined]]);
  for (const processes of Object.values(localStackModel().topologies)) {
    for (const { name, deployables } of processes) users.set(name, deployables as DeployableName[]);
  }
  return users;
}

/** The users' passwords, generated on first use and kept in the state folder. */
function natsPasswords(settings: StackSettings): Record<string, string> {
  const file = join(settings.paths.secrets, 'nats-passwords.json');
  const known = existsSync(file) ? z.record(z.string(), z.string()).parse(JSON.parse(readFileSync(file, 'utf8'))) : {};
  const missing = [...natsUsers().keys()].filter((user) => !known[user]);
  if (missing.length === 0) return known;
  for (const user of missing) known[user] = randomBytes(18).toString('base64url');
  mkdirSync(settings.paths.secrets, { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(known, null, 2)}\n`, { mode: 0o600 });
  return known;
}

/** The URL with the credentials of `user` (a process name of a topology, or the administrator). */
export function natsUrl(settings: StackSettings, user = NATS_ADMIN): string {
  const password = natsPasswords(settings)[user];
  if (!password)
    throw new Error(`no NATS user ${user} in the local stack (the processes of the platform model's topologies)`);
  return `nats://${user}:${password}@127.0.0.1:${settings.ports.nats}`;
}

export function natsMonitorUrl(settings: StackSettings): string {
  return `http://127.0.0.1:${settings.ports.natsMonitor}`;
}

/** Writes the server's config (its users and their permissions), readable only by us. */
function writeNatsConfig(settings: StackSettings): string {
  const passwords = natsPasswords(settings);
  const stream = eventsStreamEnv.parse({ ...process.env, ...localStackModel().config });
  const identities = [...natsUsers()].map(([user, deployables]) => ({
    user,
    password: passwords[user]!,
    ...(deployables ? { deployables } : {}),
  }));
  const file = join(settings.paths.nats, 'nats.conf');
  mkdirSync(settings.paths.nats, { recursive: true });
  writeFileSync(
    file,
    authorizationBlock(identities, { name: stream.EVENTS_STREAM, subjectPrefix: stream.EVENTS_SUBJECT_PREFIX }),
    { mode: 0o600 },
  );
  return file;
}

export function startNats(settings: StackSettings, binary: string): number {
  const storeDir = join(settings.paths.nats, 'jetstream');
  mkdirSync(storeDir, { recursive: true });
  const args = [
    '--config',
    writeNatsConfig(settings),
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
  return spawnDetached(binary, args, { logFile: join(settings.paths.logs, 'nats.log'), rotation: LOG_ROTATION });
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
