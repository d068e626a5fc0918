// OpenFGA, the relation-based authorization server (issue 16): built from the Go module proxy
// (cli/tools/go-tools.ts), its datastore a database `openfga` in our Postgres cluster, on loopback,
// with a preshared key generated into the state folder. `up` creates the store and writes the
// authorization model of platform/authz/model.fga when it changed.
import { join } from 'node:path';
import { z } from 'zod';
import { LOG_ROTATION } from '../../runtime/logger.ts';
import { run, spawnDetached, StackError } from './processes.ts';
import { createDatabaseIfMissing } from './postgres.ts';
import { stateSecret, type ServerEndpoints, type StackSettings } from './settings.ts';

/** The name of the store the local stack creates and the deployables use. */
export const OPENFGA_STORE = 'durable-backend';
const DATABASE = 'openfga';

export function openFgaUrl(settings: StackSettings): string {
  return `http://127.0.0.1:${settings.ports.openfga}`;
}

/** The preshared key every call to the server presents (`Authorization: Bearer <key>`). */
export function openFgaToken(settings: StackSettings): string {
  return stateSecret(settings, 'openfga-key');
}

/** What a deployable or a test is told about the authorization server. */
export function openFgaEnv(openfga: ServerEndpoints['openfga']): NodeJS.ProcessEnv {
  if (!openfga) return {};
  return {
    OPENFGA_API_URL: openfga.url,
    OPENFGA_STORE_ID: openfga.storeId,
    ...(openfga.token ? { OPENFGA_API_TOKEN: openfga.token } : {}),
  };
}

/** The datastore's URL: database `openfga` of our cluster, as its owner. */
function datastoreUri(ownerDatabaseUrl: string): string {
  const url = new URL(ownerDatabaseUrl);
  url.pathname = `/${DATABASE}`;
  url.searchParams.set('sslmode', 'disable');
  return url.toString();
}

/** Creates the datastore's database if missing, migrates it, and starts the server; returns its pid. */
export async function startOpenFga(settings: StackSettings, binary: string, ownerDatabaseUrl: string): Promise<number> {
  await createDatabaseIfMissing(ownerDatabaseUrl, DATABASE);
  // Secrets go by environment, not arguments: a process's arguments are visible to every user.
  const env = {
    ...process.env,
    OPENFGA_DATASTORE_ENGINE: 'postgres',
    OPENFGA_DATASTORE_URI: datastoreUri(ownerDatabaseUrl),
    OPENFGA_AUTHN_PRESHARED_KEYS: openFgaToken(settings),
  };
  run(binary, ['migrate'], 'openfga migrate', { env });
  const args = [
    'run',
    '--http-addr',
    `127.0.0.1:${settings.ports.openfga}`,
    '--grpc-addr',
    `127.0.0.1:${settings.ports.openfgaGrpc}`,
    '--authn-method',
    'preshared',
    '--playground-enabled=false',
    '--metrics-enabled=false',
    // At most 10 connections to our Postgres (default 30), 2 kept idle: beside the deployables' pools
    // and a 64-client pgbench of the bench, the default max_connections of 100 is enough.
    '--datastore-max-open-conns',
    '10',
    '--datastore-max-idle-conns',
    '2',
    '--log-format',
    'json',
    '--log-level',
    'warn',
  ];
  return spawnDetached(binary, args, {
    logFile: join(settings.paths.logs, 'openfga.log'),
    rotation: LOG_ROTATION,
    env,
  });
}

/** Serving, by its unauthenticated health endpoint. */
export async function openFgaHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return response.ok && ((await response.json()) as { status?: string }).status === 'SERVING';
  } catch {
    return false;
  }
}

/** A call of OpenFGA's HTTP API; a readable error with the server's message otherwise. */
async function api<T>(url: string, token: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) throw new StackError(`openfga ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

const storesPage = z.object({
  stores: z.array(z.object({ id: z.string(), name: z.string() })),
  continuation_token: z.string().optional(),
});
const modelsPage = z.object({
  authorization_models: z.array(z.object({ id: z.string() }).loose()),
});

/** Keys sorted, without the empty defaults the server fills in (`condition: ""`, `source_info: null`). */
function withoutDefaults(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDefaults);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== '' && v !== null && v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, withoutDefaults(v)]),
  );
}

/** What of a model counts for "the same model": not its id, not the defaults the server adds. */
const comparable = (model: Record<string, unknown>) =>
  JSON.stringify(
    withoutDefaults({
      schema_version: model.schema_version,
      type_definitions: model.type_definitions,
      conditions: model.conditions ?? {},
    }),
  );

/**
 * The store named `name` (created if missing) with `model` as its latest authorization model
 * (written if the latest differs). Returns the ids the deployables need.
 */
export async function ensureStoreAndModel(
  url: string,
  token: string,
  name: string,
  model: Record<string, unknown>,
): Promise<{ storeId: string; modelId: string; wroteModel: boolean }> {
  let storeId: string | undefined;
  let continuation = '';
  do {
    const page = storesPage.parse(
      await api(url, token, `/stores?page_size=100${continuation ? `&continuation_token=${continuation}` : ''}`),
    );
    storeId = page.stores.find((store) => store.name === name)?.id;
    continuation = page.continuation_token ?? '';
  } while (!storeId && continuation);
  storeId ??= z.object({ id: z.string() }).parse(await api(url, token, '/stores', { name })).id;

  const latest = modelsPage.parse(await api(url, token, `/stores/${storeId}/authorization-models?page_size=1`))
    .authorization_models[0];
  if (latest && comparable(latest) === comparable(model)) return { storeId, modelId: latest.id, wroteModel: false };
  const written = z
    .object({ authorization_model_id: z.string() })
    .parse(await api(url, token, `/stores/${storeId}/authorization-models`, model));
  return { storeId, modelId: written.authorization_model_id, wroteModel: true };
}
