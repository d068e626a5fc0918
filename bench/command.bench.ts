// 1. The command path: one counter increment = aggregate lock + idempotency claim, load, CAS update +
// outbox insert + stored response, in one transaction of five round trips. Three ways, same concurrency, one counter per
// client, each the median of 3 runs with the CPU it cost per command (client and servers share the cores):
//   pgbench running the same SQL statements (the floor: Postgres alone),
//   the service command called in-process (adds slonik, zod, the domain),
//   HTTP through the BFF process (adds Koa, auth and its OpenFGA check, validation, JSON, the network).
// Each writes to an active tenant of its own with a plan quota (benchTenant), as the service requires.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { mintDevToken } from '../cli/dev-auth.ts';
import { createCounterCommands } from '../services/counter/counter.commands.ts';
import { createDatabasePool } from '../services/kernel/database.ts';
import { BENCH_BFF_PORT, BENCH_OWNER, benchTenant, runsOf, tracedEnv, type BenchContext } from './context.ts';
import { closedLoop, latencyMeasure, medianOf, postgresPids, row, withCpu, type Measure, type Row } from './measure.ts';

export const commandLoad = (ctx: BenchContext) => ({
  concurrency: ctx.mode === 'tiny' ? 2 : 16,
  durationMs: ctx.mode === 'tiny' ? 1_500 : ctx.mode === 'quick' ? 10_000 : 30_000,
});

/**
 * What the service does for a keyed increment, as one pgbench transaction: the same five round trips
 * (services/kernel/command.ts). `counter` is an SQL expression: one counter per client, or one for all.
 */
const pgbenchScript = (counter: string) => `
\\set c :client_id
\\set k random(1, 9000000000000000)
BEGIN;
WITH locked AS (SELECT pg_advisory_xact_lock(hashtextextended('bench-pg/counter/' || ${counter}, 0))),
  limited AS (SELECT set_config('lock_timeout', '5s', true) FROM locked),
  claim AS (INSERT INTO idempotency_keys (tenant_id, caller, operation, key, request_hash, expires_at)
    SELECT 'bench-pg', 'bench', 'counter.increment', ':c-:k', md5(':c-:k'), now() + make_interval(hours => 24) FROM limited
    ON CONFLICT DO NOTHING RETURNING 1)
SELECT count(*) AS claimed, set_config('lock_timeout', '0', true) AS lifted FROM claim;
SELECT c.value, c.version, (SELECT t.status FROM tenants t WHERE t.tenant_id = 'bench-pg') AS status
  FROM (SELECT) one LEFT JOIN counters c ON c.tenant_id = 'bench-pg' AND c.counter_id = ${counter} \\gset
WITH cas AS (UPDATE counters SET value = :value + 1, updated_at = now(), version = :version + 1
    WHERE tenant_id = 'bench-pg' AND counter_id = ${counter} AND version = :version RETURNING version),
  appended AS (INSERT INTO event_outbox (event_id, tenant_id, aggregate_type, aggregate_id, aggregate_version, event_type, schema_version, payload, metadata)
    SELECT gen_random_uuid(), 'bench-pg', 'counter', ${counter}, :version + 1, 'CounterIncremented', 1,
           jsonb_build_object('by', 1, 'value', :value + 1, 'version', :version + 1), jsonb_build_object('idempotencyKey', ':c-:k') FROM cas),
  stored AS (UPDATE idempotency_keys SET response = json_build_object('tenantId', 'bench-pg', 'counterId', ${counter}, 'value', :value + 1, 'version', :version + 1)
    WHERE tenant_id = 'bench-pg' AND caller = 'bench' AND operation = 'counter.increment' AND key = ':c-:k' AND EXISTS (SELECT 1 FROM cas))
SELECT version FROM cas;
COMMIT;
`;

/** How many writers, and whether they share one counter (contention) or have one each. */
export interface Load {
  concurrency: number;
  oneCounter: boolean;
}

export async function pgbenchCommands(ctx: BenchContext, load: Load): Promise<Measure> {
  const { concurrency } = load;
  const { durationMs } = commandLoad(ctx);
  const commands = createCounterCommands({ pool: ctx.pool });
  const counters = load.oneCounter ? ['pg-hot'] : [...Array(concurrency).keys()].map((c) => `pg${c}`);
  await benchTenant(ctx, 'bench-pg');
  for (const counterId of counters) {
    await commands.execute({ tenantId: 'bench-pg', counterId, command: { type: 'increment', by: 1 }, metadata: {} });
  }
  // A folder per run: pgbench's logs of an earlier run must not be counted again.
  const dir = mkdtempSync(join(ctx.scratch, 'pgbench-'));
  const script = join(dir, 'increment.sql');
  writeFileSync(script, pgbenchScript(load.oneCounter ? "'pg-hot'" : "'pg' || :c"));
  const logPrefix = join(dir, 'pgbench');
  const url = new URL(ctx.databaseUrl);
  execFileSync(
    join(ctx.endpoints.pgBin, 'pgbench'),
    [
      '-n',
      '-c',
      String(concurrency),
      '-j',
      '2',
      '-T',
      String(Math.max(1, Math.round(durationMs / 1000))),
      '-f',
      script,
      '-l',
      '--log-prefix',
      logPrefix,
      '-h',
      url.hostname,
      '-p',
      url.port,
      '-U',
      decodeURIComponent(url.username),
      url.pathname.slice(1),
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PGPASSWORD: decodeURIComponent(url.password) },
    }, // not on the command line
  );
  const latencies: number[] = [];
  let first = Infinity;
  let last = 0;
  for (const file of readdirSync(dir).filter((f) => f.startsWith('pgbench.'))) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      const [, , latencyUs, , epoch, epochUs] = line.split(' ').map(Number);
      if (latencyUs === undefined || epoch === undefined || epochUs === undefined || Number.isNaN(latencyUs)) continue;
      latencies.push(latencyUs / 1000);
      const end = epoch * 1000 + epochUs / 1000;
      first = Math.min(first, end - latencyUs / 1000);
      last = Math.max(last, end);
    }
  }
  return latencyMeasure('pgbench, same SQL transaction', latencies, (last - first) / 1000);
}

export async function serviceCommands(ctx: BenchContext, withKey = true): Promise<Measure> {
  const { concurrency, durationMs } = commandLoad(ctx);
  await benchTenant(ctx, 'bench-svc');
  const pool = await createDatabasePool(ctx.databaseUrl, { maximumPoolSize: concurrency });
  try {
    const commands = createCounterCommands({ pool });
    const increment = (worker: number) =>
      commands.execute({
        tenantId: 'bench-svc',
        counterId: `svc${worker}`,
        ...(withKey ? { idempotencyKey: randomUUID() } : {}),
        command: { type: 'increment', by: 1 },
        metadata: { actor: 'bench' },
      });
    for (let w = 0; w < concurrency; w++) await increment(w);
    return await closedLoop(
      `service command in-process${withKey ? '' : ', no key'}`,
      concurrency,
      durationMs,
      async (worker) => {
        await increment(worker);
      },
    );
  } finally {
    await pool.end();
  }
}

export async function httpCommands(ctx: BenchContext, load: Load): Promise<Measure> {
  const { concurrency } = load;
  const { durationMs } = commandLoad(ctx);
  await ctx.deployable('bff');
  await benchTenant(ctx, 'bench-http');
  const token = await mintDevToken(ctx.endpoints.keys, { user: BENCH_OWNER, roles: [], expiresIn: '1h' });
  // One counter per connection: autocannon resets a request's context after each request, so the
  // counter is fixed when each connection (its Client) is set up, and each request gets a new key.
  const increment = (counter: string): autocannon.Request => ({
    method: 'POST',
    path: `/v1/tenants/bench-http/counters/${counter}/increment`,
    setupRequest: (request) => ({
      ...request,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
      },
      body: '{"by":1}',
    }),
  });
  let nextCounter = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${BENCH_BFF_PORT}`,
    connections: concurrency,
    duration: durationMs / 1000,
    requests: [increment(load.oneCounter ? 'http-hot' : 'http0')],
    setupClient: (client) => client.setRequests([increment(load.oneCounter ? 'http-hot' : `http${nextCounter++}`)]),
  });
  const errors = result.non2xx + result.errors + result.timeouts;
  if (result.requests.total === 0 || errors > result.requests.total / 100)
    throw new Error(`HTTP bench: ${errors} errors of ${result.requests.total} requests`);
  return {
    label: 'HTTP → BFF process → service',
    throughput: result.requests.total / (durationMs / 1000),
    p50: result.latency.p50,
    p95: result.latency.p97_5,
    p99: result.latency.p99,
    count: result.requests.total,
    errors,
  };
}

/** A command measure: the median of the mode's runs, with CPU per command of the client and of Postgres (+ the BFF). */
export const commandMeasure = (
  ctx: BenchContext,
  work: () => Promise<Measure>,
  bff?: () => number | undefined,
  by: 'throughput' | 'p99' = 'throughput',
) =>
  medianOf(runsOf(ctx.mode), by, () =>
    withCpu(() => [...postgresPids(), ...(bff?.() !== undefined ? [bff()!] : [])], work),
  );

export async function commandRows(
  ctx: BenchContext,
): Promise<{ rows: Row[]; service: { withKey: Measure; withoutKey: Measure } }> {
  const { concurrency } = commandLoad(ctx);
  const spread: Load = { concurrency, oneCounter: false };
  ctx.say(`  pgbench (${concurrency} clients)…`);
  const pg = await commandMeasure(ctx, () => pgbenchCommands(ctx, spread));
  ctx.say(`  service in-process (${concurrency} workers), with and without an Idempotency-Key…`);
  const service = await commandMeasure(ctx, () => serviceCommands(ctx));
  const withoutKey = await commandMeasure(ctx, () => serviceCommands(ctx, false));
  ctx.say(`  HTTP through the BFF (${concurrency} connections)…`);
  await ctx.deployable('bff');
  const http = await commandMeasure(
    ctx,
    () => httpCommands(ctx, spread),
    () => ctx.running().bff?.child.pid,
  );
  // The cost of tracing: the same HTTP run with every request sampled and its spans (the request, its
  // queries, the outbox insert) exported by OTLP to the stack's Jaeger.
  ctx.say(`  HTTP through the BFF again, traced (every request sampled, spans to ${ctx.endpoints.otlpEndpoint})…`);
  await ctx.stop('bff');
  await ctx.deployable('bff', { env: tracedEnv(ctx) });
  const traced = await commandMeasure(
    ctx,
    async () => ({ ...(await httpCommands(ctx, spread)), label: 'HTTP → BFF process → service, traced' }),
    () => ctx.running().bff?.child.pid,
  );
  await ctx.stop('bff');
  await ctx.deployable('bff');
  // Contention: many writers on one counter, without If-Match. Writers of one aggregate queue on its
  // lock (services/kernel/command.ts), so none should get a 409; the floor is pgbench queueing the same way.
  const hot: Load = { concurrency: ctx.mode === 'tiny' ? 4 : 64, oneCounter: true };
  ctx.say(`  ${hot.concurrency} writers on one counter: pgbench, then HTTP without If-Match…`);
  const pgHot = await commandMeasure(ctx, () => pgbenchCommands(ctx, hot), undefined, 'p99');
  const httpHot = await commandMeasure(
    ctx,
    () => httpCommands(ctx, hot),
    () => ctx.running().bff?.child.pid,
    'p99',
  );
  const note = `${concurrency} concurrent clients, one counter each; goal ≥ 0.80×`;
  return {
    service: { withKey: service, withoutKey },
    rows: [
      row('command', 'increment: service in-process vs pgbench', 'throughput', 'commands/s', service, pg, note),
      row(
        'command',
        'increment: HTTP via BFF vs pgbench',
        'throughput',
        'commands/s',
        http,
        pg,
        `${concurrency} concurrent clients, one counter each; goal ≥ 0.60×; HTTP p95 column is p97.5 (autocannon)`,
      ),
      row(
        'command',
        'increment: HTTP via BFF, tracing on vs off',
        'throughput',
        'commands/s',
        traced,
        http,
        `${concurrency} concurrent clients; every request sampled, spans exported by OTLP/HTTP (batched) to Jaeger; goal ≥ 0.90×`,
      ),
      row(
        'command',
        'increment latency: HTTP via BFF vs service in-process',
        'p50',
        'ms',
        http,
        service,
        "the HTTP layer's own cost",
      ),
      row(
        'command',
        `${hot.concurrency} writers on one counter, no If-Match: HTTP via BFF vs pgbench`,
        'p99',
        'ms',
        httpHot,
        pgHot,
        `non-2xx answers (409s): ${httpHot.errors ?? 0} of ${httpHot.count ?? 0}; writers queue on the aggregate's lock`,
      ),
    ],
  };
}
