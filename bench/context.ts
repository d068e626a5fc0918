// What every benchmark gets: the stack's servers, a database of its own, a Temporal namespace of its
// own (`bench`), an events stream of its own and an OpenFGA store of its own, so a run never touches
// the dev stack's data, and the deployables started as separate processes (the many-process
// topology) inside that sandbox.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Client, Connection, isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { openFgaEnv } from '../cli/stack/openfga.ts';
import { ensureSearchAttributes } from '../cli/stack/temporal.ts';
import { createAuthz, type Authz, type AuthzConfig } from '../runtime/authz.ts';
import type { DeployableName } from '../runtime/deployable.ts';
import type { EventsStream } from '../runtime/events-stream.ts';
import { connectNats, type NatsConnection } from '../runtime/connections.ts';
import { createDatabasePool, type DatabasePool } from '../services/kernel/database.ts';
import { createMigratedDatabase, type FreshDatabase } from '../test/support/database.ts';
import { EPHEMERAL_HEALTH_PORTS, repoRoot, type Started } from '../test/support/processes.ts';
import { onboardedTenant } from '../test/support/tenants.ts';
import { createBenchStore, type OpenFgaServer } from './authz-store.ts';
import { sleep, waitFor } from './measure.ts';

export type BenchMode = 'tiny' | 'quick' | 'full';

/** Each measured side runs this many times and reports the median (tiny mode proves it works, once). */
export const runsOf = (mode: BenchMode) => (mode === 'tiny' ? 1 : 3);

export interface StackEndpoints {
  /** Any database URL on the stack's Postgres server (the bench creates its own database there). */
  serverUrl: string;
  natsUrl: string;
  temporalAddress: string;
  /** Folder with `pgbench`. */
  pgBin: string;
  keys: { jwks: string; privateJwk: string };
  /** The authorization server (the bench makes a store of its own there). */
  openfga: OpenFgaServer;
  /** The stack's trace collector (OTLP/HTTP), for the tracing-on command run. */
  otlpEndpoint: string;
}

export interface BenchContext {
  mode: BenchMode;
  say: (line: string) => void;
  endpoints: StackEndpoints;
  databaseUrl: string;
  pool: DatabasePool;
  nats: NatsConnection;
  jsm: JetStreamManager;
  stream: EventsStream;
  namespace: string;
  client: Client;
  /** The bench's OpenFGA store, reached without a decision cache (its deployables keep their default one). */
  authzConfig: AuthzConfig;
  authz: Authz;
  /** Prefix of this run's tenant ids (their NATS streams are removed at the end). */
  tenantPrefix: string;
  scratch: string;
  /** The environment the deployables run with in the sandbox. */
  env: NodeJS.ProcessEnv;
  /**
   * Starts one deployable as its own process in the bench sandbox (once; later calls return it), with
   * `env` added to the sandbox's environment and node's `nodeArgs`.
   */
  deployable(name: DeployableName, options?: { env?: NodeJS.ProcessEnv; nodeArgs?: string[] }): Promise<Started>;
  running(): Partial<Record<DeployableName, Started>>;
  /** Stops a deployable's process (SIGTERM); `deployable(name)` starts a new one. */
  stop(name: DeployableName): Promise<void>;
  close(): Promise<void>;
}

/** The BFF the bench starts: below the ephemeral range (32768–60999), where a client socket could already hold it. */
export const BENCH_BFF_PORT = 28190;

/** A deployable's entry: compiled (what production runs, `npm run build`) or its TypeScript source. */
export const entryOf = (name: DeployableName, form: 'compiled' | 'tsx') =>
  form === 'compiled' ? join(repoRoot, 'dist', name, `${name}.main.js`) : join(repoRoot, name, `${name}.main.ts`);

/** gRPC status ALREADY_EXISTS: the bench namespace was registered by an earlier run. */
const GRPC_ALREADY_EXISTS = 6;

export async function openBenchContext(
  mode: BenchMode,
  endpoints: StackEndpoints,
  say: (line: string) => void,
): Promise<BenchContext> {
  const id = randomBytes(3).toString('hex');
  const db: FreshDatabase = await createMigratedDatabase(endpoints.serverUrl, 'bench');
  const pool = await createDatabasePool(db.url, { maximumPoolSize: 20 });
  const nats = await connectNats(endpoints.natsUrl, 'bench');
  const jsm = await jetstreamManager(nats);
  const stream: EventsStream = { name: `BENCH_EVENTS_${id.toUpperCase()}`, subjectPrefix: `bench${id}` };
  const namespace = 'bench';
  const connection = await Connection.connect({ address: endpoints.temporalAddress });
  await connection.workflowService
    .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('24 hours') })
    .catch((error: unknown) => {
      if (!(isGrpcServiceError(error) && (error.code as number) === GRPC_ALREADY_EXISTS)) throw error;
    });
  await waitFor(
    'the bench namespace',
    async () =>
      connection.workflowService.describeNamespace({ namespace }).then(
        () => true,
        () => false,
      ),
    30_000,
    200,
  );
  await ensureSearchAttributes(endpoints.temporalAddress, namespace);
  const client = new Client({ connection, namespace });
  const store = await createBenchStore(endpoints.openfga, `bench-${id}`);
  const authz = createAuthz(store.config);
  const scratch = mkdtempSync(join(tmpdir(), 'bench-'));
  const processes: Partial<Record<DeployableName, Started>> = {};
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    LOG_LEVEL: 'info', // the default: request and progress logs are part of what a deployable costs
    DATABASE_URL: db.url,
    NATS_URL: endpoints.natsUrl,
    TEMPORAL_ADDRESS: endpoints.temporalAddress,
    TEMPORAL_NAMESPACE: namespace,
    EVENTS_STREAM: stream.name,
    EVENTS_SUBJECT_PREFIX: stream.subjectPrefix,
    ...openFgaEnv({
      url: store.config.OPENFGA_API_URL,
      storeId: store.config.OPENFGA_STORE_ID,
      token: store.config.OPENFGA_API_TOKEN,
    }),
    AUTH_JWKS_FILE: endpoints.keys.jwks,
    BFF_PORT: String(BENCH_BFF_PORT),
    FAULT_INJECTION: 'disabled',
    DATABASE_POOL_SIZE: '16',
    NODE_ENV: 'production',
    ...EPHEMERAL_HEALTH_PORTS,
  };
  const tenantPrefix = `tb${id}`;
  say(
    `• bench sandbox: database ${db.url.replace(/\/\/[^@]*@/, '//…@')}, namespace ${namespace}, stream ${stream.name}, OpenFGA store ${store.config.OPENFGA_STORE_ID}`,
  );

  return {
    mode,
    say,
    endpoints,
    databaseUrl: db.url,
    pool,
    nats,
    jsm,
    stream,
    namespace,
    client,
    authzConfig: store.config,
    authz,
    scratch,
    tenantPrefix,
    env,
    running: () => processes,
    async deployable(name, { env: extra = {}, nodeArgs = [] } = {}) {
      const existing = processes[name];
      if (existing) return existing;
      // Logs go to a file, as a container runtime would collect them, not through a pipe to us.
      const log = join(scratch, `${name}.log`);
      // A restarted deployable appends to the same log; only what this process wrote counts.
      const offset = existsSync(log) ? statSync(log).size : 0;
      const fd = openSync(log, 'a');
      // The compiled deployable under plain node, as production runs it.
      const child = spawn(process.execPath, [...nodeArgs, entryOf(name, 'compiled')], {
        cwd: repoRoot,
        env: { ...env, ...extra },
        stdio: ['ignore', fd, fd],
      });
      closeSync(fd);
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      const started: Started = {
        child,
        output: () => readFileSync(log).subarray(offset).toString('utf8'),
        exited,
      };
      processes[name] = started;
      await waitFor(
        `${name} to start`,
        async () => {
          if (started.child.exitCode !== null) throw new Error(`${name} exited: ${started.output()}`);
          return /"msg":"started"/.test(started.output());
        },
        120_000,
        100,
      );
      return started;
    },
    async stop(name) {
      const started = processes[name];
      delete processes[name];
      if (started) await terminate(started);
    },
    async close() {
      for (const started of Object.values(processes)) await terminate(started);
      for await (const execution of client.workflow.list({ query: 'ExecutionStatus="Running"' })) {
        await client.workflow
          .getHandle(execution.workflowId, execution.runId)
          .terminate('bench finished')
          .catch(() => undefined);
      }
      for await (const schedule of client.schedule.list())
        await client.schedule
          .getHandle(schedule.scheduleId)
          .delete()
          .catch(() => undefined);
      for await (const name of jsm.streams.names()) {
        if (name.startsWith(stream.name) || name.startsWith(`TENANT_${tenantPrefix.toUpperCase()}`))
          await jsm.streams.delete(name).catch(() => undefined);
      }
      await nats.drain();
      await pool.end();
      await connection.close();
      await db.drop();
      await store.drop();
    },
  };
}

/** What a traced deployable adds to the sandbox's environment: every request sampled, spans to the stack's collector. */
export const tracedEnv = (ctx: BenchContext): NodeJS.ProcessEnv => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: ctx.endpoints.otlpEndpoint,
  OTEL_TRACES_SAMPLER: 'always_on',
});

/** Who owns the benchmarks' tenants: the `user` of the tokens the bench mints. */
export const BENCH_OWNER = 'bench';

/**
 * An active tenant owned by BENCH_OWNER, as onboarding leaves it, in the bench's database and store
 * (idempotent). Its plan, pro, allows 1,000 counters: more than any benchmark writes to.
 */
export async function benchTenant(ctx: BenchContext, tenantId: string): Promise<void> {
  await onboardedTenant(ctx.pool, { tenantId, owner: BENCH_OWNER, plan: 'pro' }, ctx.authz);
}

async function terminate(started: Started): Promise<void> {
  if (started.child.exitCode !== null) return;
  started.child.kill('SIGTERM');
  await Promise.race([started.exited, sleep(20_000)]);
  if (started.child.exitCode === null) started.child.kill('SIGKILL');
}
