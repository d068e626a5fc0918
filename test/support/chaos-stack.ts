// The chaos tier's own stack, started with the product's CLI as a person starts it (`up --topology
// kubernetes`: one process per deployable) on a private state folder and ports, and the faults an
// operator meets on it: a deployable SIGKILLed, a server stopped. The repair is `up` again, the
// command README tells an operator to run. Nothing here touches the test stack or a dev stack.
// Its OpenFGA is the stack's own (on the private ports below), the one its deployables ask.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { CredentialsMethod, OpenFgaClient } from '@openfga/sdk';
import { OPENFGA_STORE, openFgaToken, openFgaUrl } from '../../cli/stack/openfga.ts';
import { stopPid } from '../../cli/stack/processes.ts';
import { isOurProcess, readRecord } from '../../cli/stack/record.ts';
import { loadStackSettings, type StackSettings } from '../../cli/stack/settings.ts';
import { createAuthz, type Authz } from '../../runtime/authz.ts';
import { repoRoot } from './processes.ts';

/** One process per deployable, so each can be killed alone (platform/generated/local-stack.json). */
export const TOPOLOGY = 'kubernetes';

/**
 * Below Linux's ephemeral range (32768–60999, where a client socket of another test may sit) and
 * apart from the ports of test/stack.e2e.test.ts (25xxx, 27xxx, 28xxx) and the bench (28190).
 */
const PORTS = {
  PG_PORT: 26532,
  NATS_PORT: 26322,
  NATS_MONITOR_PORT: 26323,
  TEMPORAL_PORT: 26333,
  TEMPORAL_UI_PORT: 26334,
  BFF_PORT: 26180,
  SAGA_WORKER_HTTP_PORT: 26181,
  RELAY_HTTP_PORT: 26182,
  PROJECTOR_HTTP_PORT: 26183,
  OPENFGA_PORT: 26380,
  OPENFGA_GRPC_PORT: 26381,
};

export type Deployable = 'bff' | 'saga-worker' | 'relay' | 'projector';
export type Server = 'postgres' | 'nats' | 'temporal' | 'openfga';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

export interface ChaosStack {
  stateDir: string;
  settings: StackSettings;
  bff: string;
  temporalAddress: string;
  /** The CLI on this stack, without blocking the event loop (the load keeps running meanwhile). */
  cli(args: string[], timeoutMs?: number): Promise<CliResult>;
  /** `up --topology kubernetes`: starts what is missing, repairs what is broken; throws when it fails. */
  up(): Promise<CliResult>;
  down(): Promise<CliResult>;
  /** The recorded pid of a deployable's process or of a server, when it is running. */
  pidOf(component: Deployable | Server): number | undefined;
  /** The store of this stack's OpenFGA that its deployables use (after `up`), without a decision cache. */
  authz(): Promise<Authz>;
}

export function chaosStack(): ChaosStack {
  const stateDir = join(repoRoot, '.local', `chaos-${randomUUID().slice(0, 8)}`);
  // Only what the CLI needs: the test run's DATABASE_URL / NATS_URL would make it use the test stack.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    STACK_DIR: stateDir,
    ...Object.fromEntries(Object.entries(PORTS).map(([name, port]) => [name, String(port)])),
  };
  const settings = loadStackSettings('dev', env);
  const cli = (args: string[], timeoutMs = 240_000) =>
    new Promise<CliResult>((resolve) => {
      const started = Date.now();
      const child = spawn(process.execPath, [join(repoRoot, 'tools', 'bootstrap.mjs'), ...args], {
        cwd: repoRoot,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
      });
    });
  return {
    stateDir,
    settings,
    bff: `http://127.0.0.1:${PORTS.BFF_PORT}`,
    temporalAddress: `127.0.0.1:${PORTS.TEMPORAL_PORT}`,
    cli,
    async up() {
      const result = await cli(['up', '--topology', TOPOLOGY]);
      if (result.code !== 0) throw new Error(`up failed (exit ${result.code}):\n${result.stdout}${result.stderr}`);
      return result;
    },
    down: () => cli(['down']),
    pidOf(component) {
      const record = readRecord(settings.paths.record);
      const entry = component in record ? record[component as Server] : record.apps?.[component];
      return entry && isOurProcess(entry) ? entry.pid : undefined;
    },
    async authz() {
      const url = openFgaUrl(settings);
      const token = openFgaToken(settings);
      // The store `up` created by this name and gave the deployables.
      const admin = new OpenFgaClient({
        apiUrl: url,
        credentials: { method: CredentialsMethod.ApiToken, config: { token } },
      });
      const { stores } = await admin.listStores({ name: OPENFGA_STORE });
      if (stores.length !== 1) throw new Error(`${stores.length} OpenFGA stores named ${OPENFGA_STORE} on ${url}`);
      const storeId = stores[0]!.id;
      return createAuthz({
        OPENFGA_API_URL: url,
        OPENFGA_STORE_ID: storeId,
        OPENFGA_API_TOKEN: token,
        AUTHZ_CACHE_MS: 0,
      });
    },
  };
}

/** SIGKILL of a deployable's process: no drain, no goodbye, as the OOM killer does it. */
export async function killDeployable(stack: ChaosStack, name: Deployable): Promise<number> {
  const pid = stack.pidOf(name);
  if (!pid) throw new Error(`${name} is not running`);
  await stopPid(pid, 20_000, 'SIGKILL');
  return pid;
}

/**
 * Stops a server as its service manager would: Postgres by a fast shutdown (SIGINT, what `pg_ctl
 * stop -m fast` sends; SIGTERM would wait for every client to leave), the others by SIGTERM.
 */
export async function stopServer(stack: ChaosStack, name: Server): Promise<number> {
  const pid = stack.pidOf(name);
  if (!pid) throw new Error(`${name} is not running`);
  await stopPid(pid, 20_000, name === 'postgres' ? 'SIGINT' : 'SIGTERM');
  return pid;
}
