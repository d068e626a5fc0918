// `npm run up` / `status` / `down` as a person runs them, on a private state folder and ports, so
// the test stack and your dev stack are untouched. Proves: everything comes up and is healthy,
// `up` twice is harmless, a taken port is reported with its owner, sagas survive a restart
// (persistent SQLite), and `down` leaves nothing of ours running.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { after, before, describe, it } from 'mocha';
import pg from 'pg';
import { smokeWorkflow } from '../workflows/smoke/smoke.workflow.ts';
import { testStack } from './support/env.ts';
import { startPostgres, stopPostgres } from '../cli/stack/postgres.ts';
import { newestLog, stopPid } from '../cli/stack/processes.ts';
import { loadStackSettings } from '../cli/stack/settings.ts';
import { natsUrl } from '../cli/stack/nats.ts';
import { connectNats } from '../runtime/connections.ts';
import { jetstream } from '@nats-io/jetstream';
import { startTemporal } from '../cli/stack/temporal.ts';
import { ensurePostgresBinaries, ensureTemporalCli } from '../cli/stack/tools.ts';
import { repoRoot } from './support/processes.ts';
import { bffClient } from '../cli/api-client.ts';
import { ancestry, describeTrace, waitForTrace, type TraceSpan } from '../cli/traces.ts';
import { TASK_QUEUES, WORKFLOW_IDS } from '../contracts/workflow-names.ts';

const stateDir = join(repoRoot, '.local', `e2e-${randomUUID().slice(0, 8)}`);
// Below Linux's ephemeral range (32768–60999): a client socket of an earlier test can hold a port
// in that range, and `up` would then find it taken (seen in CI after the outage tests).
const ports = {
  pg: 25532,
  nats: 24322,
  natsMonitor: 28322,
  temporal: 27333,
  ui: 28333,
  bff: 28180,
  workers: 28181,
  openfga: 28380,
  jaeger: 28686,
};
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  STACK_DIR: stateDir,
  PG_PORT: String(ports.pg),
  NATS_PORT: String(ports.nats),
  NATS_MONITOR_PORT: String(ports.natsMonitor),
  TEMPORAL_PORT: String(ports.temporal),
  TEMPORAL_UI_PORT: String(ports.ui),
  BFF_PORT: String(ports.bff),
  SAGA_WORKER_HTTP_PORT: String(ports.workers),
  RELAY_HTTP_PORT: String(ports.workers + 1),
  PROJECTOR_HTTP_PORT: String(ports.workers + 2),
  OPENFGA_PORT: String(ports.openfga),
  OPENFGA_GRPC_PORT: String(ports.openfga + 1),
  JAEGER_UI_PORT: String(ports.jaeger),
  JAEGER_GRPC_PORT: String(ports.jaeger + 1),
  OTLP_HTTP_PORT: String(ports.jaeger + 2),
};

function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [join(repoRoot, 'tools', 'bootstrap.mjs'), ...args], {
    cwd: repoRoot,
    env: { ...env, ...extraEnv },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, all: `${result.stdout}${result.stderr}` };
}

interface ComponentStatus {
  url: string | null;
  port: number | null;
  pid: number | null;
  healthy: boolean;
}

function statusJson(): Record<string, ComponentStatus> {
  return JSON.parse(cli(['status', '--json']).stdout) as Record<string, ComponentStatus>;
}

/** Running, not merely a zombie waiting for its parent (the machine's init) to reap it. */
const alive = (pid: number | null) => {
  if (!pid) return false;
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/**
 * Runs the shell block between `<!-- name:start -->` and `<!-- name:end -->` in a doc against the
 * stack; each "# → …" comment in it is a line the commands print, in order ("…" is any text).
 */
function runDocExample(doc: string, name: string, extraEnv: NodeJS.ProcessEnv = {}): void {
  const text = readFileSync(join(repoRoot, doc), 'utf8');
  const block = new RegExp(`<!-- ${name}:start -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\`\\n<!-- ${name}:end -->`).exec(
    text,
  )?.[1];
  assert.ok(block, `${doc} has the ${name} block`);
  const result = spawnSync('bash', ['-euo', 'pipefail', '-c', block], {
    cwd: repoRoot,
    env: { ...env, ...extraEnv },
    encoding: 'utf8',
    timeout: 240_000,
  });
  assert.equal(result.status, 0, `${result.stderr}\n${result.stdout}`);
  const expected = [...block.matchAll(/^# → (.*)$/gm)].map((m) => m[1]!);
  const lines = result.stdout
    .trim()
    .split('\n')
    .map((line) => line.trim());
  assert.equal(lines.length, expected.length, result.stdout);
  expected.forEach((pattern, i) => {
    const regex = new RegExp(
      `^${pattern
        .split('…')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    assert.match(lines[i]!, regex);
  });
}

describe('local stack: npm run up / status / down', function () {
  this.timeout(300_000);
  let firstStatus: Record<string, ComponentStatus>;
  const workflowId = `smoke/e2e-${randomUUID()}`;

  before(() => {
    const up = cli(['up']);
    assert.equal(up.code, 0, up.all);
    assert.match(up.stdout, new RegExp(`BFF\\s+http://127.0.0.1:${ports.bff}`));
    assert.match(up.stdout, new RegExp(`Temporal Web UI http://127.0.0.1:${ports.ui}`));
    assert.match(up.stdout, new RegExp(`Traces\\s+http://127.0.0.1:${ports.jaeger}`));
    firstStatus = statusJson();
  });

  after(() => {
    cli(['down']);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('reports every component with url, port, pid and healthy=true', () => {
    for (const key of [
      'bff',
      'postgres',
      'nats',
      'temporal',
      'temporalUi',
      'openfga',
      'traces',
      'sagaWorker',
      'relayWorker',
      'projectorWorker',
    ]) {
      const component = firstStatus[key];
      assert.ok(component, `status has ${key}`);
      assert.equal(component.healthy, true, `${key} healthy`);
      assert.equal(typeof component.pid, 'number', `${key} pid`);
      assert.ok('url' in component && 'port' in component);
    }
    assert.equal(firstStatus.bff?.port, ports.bff);
    assert.equal(firstStatus.temporalUi?.url, `http://127.0.0.1:${ports.ui}`);
    assert.equal(firstStatus.traces?.url, `http://127.0.0.1:${ports.jaeger}`);
    assert.doesNotMatch(firstStatus.postgres?.url ?? '', /:[^*@/]+@/, 'no password printed');
  });

  it('NATS wants credentials: an anonymous client is refused, and so is an event published as the BFF process', async () => {
    const settings = loadStackSettings('dev', env);
    assert.match(firstStatus.nats?.url ?? '', /^nats:\/\/admin:\*+@/, 'the administrator, password hidden');
    await assert.rejects(connectNats(`nats://127.0.0.1:${ports.nats}`, 'anonymous'), /authorization/i);
    const bff = await connectNats(natsUrl(settings, 'bff'), 'e2e-as-bff'); // the kubernetes topology's BFF process
    try {
      await assert.rejects(jetstream(bff).publish('events.forged.counter.CounterIncremented', '{}'), /permission/i);
    } finally {
      await bff.close();
    }
  });

  it('the deployables log JSON lines to a rotated file (logs/app.<n>.log), their stdout and stderr to logs/app.out', () => {
    const logs = readdirSync(join(stateDir, 'logs'));
    const rotated = logs.filter((name) => /^app\.\d+\.log$/.test(name));
    assert.ok(rotated.length >= 1, logs.join(', '));
    assert.ok(logs.includes('app.out'), logs.join(', '));
    const lines = rotated.flatMap((name) =>
      readFileSync(join(stateDir, 'logs', name), 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean),
    );
    assert.ok(lines.some((line) => (JSON.parse(line) as { msg?: string }).msg === 'BFF listening'));
  });

  it("the servers' own logs are bounded too: NATS and Temporal through the log pump, Postgres by weekday", () => {
    const logs = readdirSync(join(stateDir, 'logs'));
    for (const server of ['nats', 'temporal']) {
      assert.ok(
        logs.some((name) => new RegExp(`^${server}\\.\\d+\\.log$`).test(name)),
        `${server}.<n>.log in ${logs.join(', ')}`,
      );
    }
    assert.match(readFileSync(newestLog(join(stateDir, 'logs', 'nats.log')), 'utf8'), /Server is ready/);
    const day = new Date().toLocaleDateString('en-US', { weekday: 'short' });
    const postgresLogs = readdirSync(join(stateDir, 'logs', 'postgres'));
    assert.ok(
      postgresLogs.every((name) => /^postgresql-(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\.log$/.test(name)),
      postgresLogs.join(),
    );
    assert.ok(postgresLogs.length >= 1 && postgresLogs.length <= 7, `${postgresLogs.join()} (today: ${day})`);
  });

  it('serves /readyz 200 on the printed BFF URL and the Temporal Web UI answers 200', async () => {
    assert.equal((await fetch(`http://127.0.0.1:${ports.bff}/readyz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${ports.ui}/`)).status, 200);
  });

  it('registers the four custom search attributes (temporal operator search-attribute list)', () => {
    const list = spawnSync(
      testStack().TEMPORAL_CLI_PATH,
      ['operator', 'search-attribute', 'list', '--address', `127.0.0.1:${ports.temporal}`],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(list.status, 0, list.stderr);
    for (const name of ['TenantId', 'TenantSlug', 'SagaStatus', 'SagaStep']) {
      assert.match(list.stdout, new RegExp(`^\\s*${name}\\s+Keyword`, 'm'));
    }
  });

  it('runs a workflow on the started saga worker (task queue tenant-sagas)', async () => {
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    try {
      const result = await new Client({ connection }).workflow.execute(smokeWorkflow, {
        taskQueue: TASK_QUEUES.sagas,
        workflowId,
        args: ['e2e'],
      });
      assert.equal(result, 'workflow saw: saga-worker echoed e2e');
    } finally {
      await connection.close();
    }
  });

  it("`history export` writes that workflow's history as JSON the SDK loads, and names a workflow that does not exist", () => {
    const file = join(stateDir, 'smoke-history.json');
    const exported = cli(['history', 'export', workflowId, '--out', file]);
    assert.equal(exported.code, 0, exported.all);
    assert.match(exported.stderr, /smokeWorkflow .* \(COMPLETED, \d+ events\)/);
    const history = historyFromJSON(JSON.parse(readFileSync(file, 'utf8')));
    const types = (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter(Boolean);
    assert.ok(types.length > 0, 'the smoke workflow ran an activity');
    assert.ok(history.events?.[0]?.workflowExecutionStartedEventAttributes, 'starts with WorkflowExecutionStarted');
    const missing = cli(['history', 'export', 'no-such-workflow']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no workflow no-such-workflow/);
  });

  it("the README's API examples work as written against the running stack", () => {
    runDocExample('README.md', 'api-example', { BFF: `http://127.0.0.1:${ports.bff}` });
  });

  it("the reset runbook's walkthrough works as written: three compensated sagas reset by id, by query and to an event id", () => {
    runDocExample('docs/reset-runbook.md', 'runbook-example');
  });

  it("the runbook's tctl walkthrough works as written: tctl 1.18 resets from the start and to an event id of a run", () => {
    runDocExample('docs/reset-runbook.md', 'runbook-tctl-example');
  });

  it('the relay and projection workflows run with readable activity names; a platform admin can start a rebuild over HTTP', async () => {
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    try {
      const client = new Client({ connection });
      const activityNames = async (workflowId: string) => {
        const names = new Set<string>();
        for (const event of (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? []) {
          const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
          if (name) names.add(name);
        }
        return [...names];
      };
      assert.deepEqual(await activityNames('outbox-relay'), ['relayLoop']);
      assert.deepEqual(await activityNames('projection/counters'), ['projectLoop']);

      const admin = cli(['token', '--user', 'ops', '--roles', 'platform-admin']).stdout.trim();
      const started = await bffClient(`http://127.0.0.1:${ports.bff}`, admin).POST(
        '/v1/admin/projections/{projection}/rebuild',
        { params: { path: { projection: 'counters' } } },
      );
      assert.equal(started.response.status, 202);
      const { workflowId } = started.data!;
      const result = (await client.workflow.getHandle(workflowId).result()) as { phase: string };
      assert.equal(result.phase, 'done');
    } finally {
      await connection.close();
    }
  });

  it('tenants over HTTP: onboarding per plan, idempotent create, approval, a CLI-armed fault compensates, found by TenantId', async () => {
    const bff = `http://127.0.0.1:${ports.bff}`;
    const userToken = cli(['token', '--user', 'founder']).stdout.trim();
    const adminToken = cli(['token', '--user', 'ops', '--roles', 'platform-admin']).stdout.trim();
    const as = (token: string) => bffClient(bff, token);
    const create = (key: string, body: { slug: string; name: string; plan: 'free' | 'pro' | 'enterprise' }) =>
      as(userToken).POST('/v1/tenants', { params: { header: { 'Idempotency-Key': key } }, body });
    // The creator's own token follows the onboarding and, once it completed, owns the tenant (OpenFGA).
    const ownerToken = (_tenantId: string) => userToken;
    const onboarding = async (tenantId: string, token: string) => {
      const { data } = await as(token).GET('/v1/tenants/{tenantId}/onboarding', { params: { path: { tenantId } } });
      if (!data) throw new Error(`no onboarding of ${tenantId} yet`);
      return data;
    };
    const settled = async (tenantId: string, token: string, want: string) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const unknown = { sagaStatus: 'unknown', steps: {} as Record<string, string> };
        const status = await onboarding(tenantId, token).catch(() => unknown);
        if (status.sagaStatus === want || Date.now() > deadline) return status;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    const tenantRead = async (tenantId: string, token: string, status: string) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const { data } = await as(token).GET('/v1/tenants/{tenantId}', { params: { path: { tenantId } } });
        const body: Record<string, unknown> = data ?? {};
        if (body.status === status || Date.now() > deadline) return body;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };

    // pro: straight to active
    const slug = `acme-${randomUUID().slice(0, 6)}`;
    const first = await create('e2e-tenant-1', { slug, name: 'Acme', plan: 'pro' });
    assert.equal(first.response.status, 202);
    assert.match(first.response.headers.get('location') ?? '', /^\/v1\/tenants\/t[0-9a-f]{20}\/onboarding$/);
    const { tenantId } = first.data!;
    const owner = ownerToken(tenantId);
    assert.equal((await settled(tenantId, owner, 'completed')).sagaStatus, 'completed');
    assert.deepEqual(await tenantRead(tenantId, owner, 'active'), {
      tenantId,
      slug,
      name: 'Acme',
      plan: 'pro',
      status: 'active',
      members: 1,
      version: 7,
    });
    const again = await create('e2e-tenant-1', { slug, name: 'Acme', plan: 'pro' });
    assert.equal(again.response.status, 202);
    assert.equal(again.response.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.data?.tenantId, tenantId, 'starting twice is one saga');
    assert.equal(
      (await create('e2e-tenant-1', { slug, name: 'Other', plan: 'pro' })).error?.code,
      'IDEMPOTENCY_KEY_REUSED',
    );
    assert.equal((await create('e2e-tenant-2', { slug, name: 'Copycat', plan: 'free' })).error?.code, 'SLUG_TAKEN');
    const listed = spawnSync(
      testStack().TEMPORAL_CLI_PATH,
      ['workflow', 'list', '--address', `127.0.0.1:${ports.temporal}`, '--query', `TenantId='${tenantId}'`],
      { encoding: 'utf8' },
    );
    assert.match(listed.stdout, new RegExp(WORKFLOW_IDS.onboarding(tenantId)));

    // free: active too, and its resources are really there
    const small = (await create('e2e-tenant-5', { slug: `${slug}-small`, name: 'Small', plan: 'free' })).data!;
    const smallOwner = ownerToken(small.tenantId);
    assert.equal((await settled(small.tenantId, smallOwner, 'completed')).sagaStatus, 'completed');
    assert.equal((await tenantRead(small.tenantId, smallOwner, 'active')).plan, 'free');
    const password = readFileSync(join(stateDir, 'secrets', 'postgres-password'), 'utf8').trim();
    const db = new pg.Client({
      connectionString: `postgres://app:${encodeURIComponent(password)}@127.0.0.1:${ports.pg}/app`,
    });
    await db.connect();
    try {
      for (const id of [tenantId, small.tenantId]) {
        const row = await db.query<{
          resources: string;
          quotas: string;
          owners: string;
          schemas: string;
          events: string;
        }>(
          `select (select count(*) from tenant_resources where tenant_id = $1) as resources,
                  (select count(*) from tenant_quotas where tenant_id = $1) as quotas,
                  (select count(*) from tenant_memberships where tenant_id = $1 and role = 'owner') as owners,
                  (select count(*) from information_schema.schemata where schema_name = 'tenant_' || $1) as schemas,
                  (select count(*) from event_outbox where aggregate_type = 'tenant' and aggregate_id = $1) as events`,
          [id],
        );
        assert.deepEqual(
          row.rows[0],
          { resources: '2', quotas: '1', owners: '1', schemas: '1', events: '7' },
          `resources of ${id}`,
        );
      }
    } finally {
      await db.end();
    }

    // enterprise: waits until a platform admin approves
    const big = (await create('e2e-tenant-3', { slug: `${slug}-big`, name: 'Big', plan: 'enterprise' })).data!;
    const bigOwner = ownerToken(big.tenantId);
    assert.equal((await settled(big.tenantId, bigOwner, 'waiting-approval')).sagaStatus, 'waiting-approval');
    const approve = (token: string) =>
      as(token).POST('/v1/tenants/{tenantId}/onboarding/approve', { params: { path: { tenantId: big.tenantId } } });
    assert.equal((await approve(bigOwner)).error?.code, 'FORBIDDEN');
    assert.equal((await approve(adminToken)).response.status, 202);
    assert.equal((await settled(big.tenantId, bigOwner, 'completed')).sagaStatus, 'completed');

    // a fault armed from the CLI before the tenant exists
    const doomed = `${slug}-doomed`;
    const armed = cli(['fault', 'arm', '--slug', doomed, '--step', 'create-nats-resources', '--mode', 'fail']);
    assert.equal(armed.code, 0, armed.all);
    const failed = (await create('e2e-tenant-4', { slug: doomed, name: 'Doomed', plan: 'free' })).data!;
    const doomedOwner = ownerToken(failed.tenantId);
    const final = await settled(failed.tenantId, doomedOwner, 'compensated');
    assert.equal(final.sagaStatus, 'compensated');
    assert.equal(final.steps['create-nats-resources'], 'compensated');
    assert.equal((await tenantRead(failed.tenantId, doomedOwner, 'compensated')).status, 'compensated');

    // The CLI's tenant command: the same API through the typed client, the saga followed step by step.
    const viaCli = cli(['tenant', 'create', `${slug}-cli`, '--plan', 'pro', '--user', 'cli-founder']);
    assert.equal(viaCli.code, 0, viaCli.all);
    assert.match(viaCli.all, /• tenant t[0-9a-f]{20} \(pro\) created; onboarding:/);
    for (const step of ['reserve', 'grant-owner', 'activate', 'send-welcome'])
      assert.match(viaCli.all, new RegExp(`• ${step}: done`));
    assert.match(viaCli.all, /✓ onboarding completed/);
    const rerun = cli(['tenant', 'create', `${slug}-cli`, '--plan', 'pro', '--user', 'cli-founder']);
    assert.match(rerun.all, /already created: following it/);
    const cliTenant = /tenant (t[0-9a-f]{20})/.exec(viaCli.all)![1]!;
    assert.equal(cli(['tenant', 'show', cliTenant, '--user', 'someone-else']).code, 1, 'no relation: 404');
  });

  it('a second `up` reports what is already up and changes nothing', () => {
    const again = cli(['up']);
    assert.equal(again.code, 0, again.all);
    for (const name of ['postgres', 'nats', 'temporal', 'deployables']) {
      assert.match(again.stdout, new RegExp(`✓ ${name} already up`));
    }
    const status = statusJson();
    for (const key of ['bff', 'postgres', 'nats', 'temporal']) assert.equal(status[key]?.pid, firstStatus[key]?.pid);
  });

  it('servers restarted outside `up` (Postgres, Temporal): `up` adopts them and keeps the running deployables', async () => {
    const settings = loadStackSettings('dev', env);
    const before = statusJson();
    const quiet = () => undefined;
    const pgBin = ensurePostgresBinaries(quiet);
    stopPostgres(settings, pgBin);
    const postgresPid = await startPostgres(settings, pgBin, quiet); // not recorded: as if by hand
    await stopPid(before.temporal!.pid!);
    const temporalPid = startTemporal(settings, ensureTemporalCli(quiet));
    const again = cli(['up']);
    assert.equal(again.code, 0, again.all);
    assert.match(again.stdout, new RegExp(`✓ postgres up, restarted outside \`up\` \\(pid ${postgresPid}\\): adopted`));
    assert.match(again.stdout, /✓ temporal up, restarted outside `up` \(pid \d+\): adopted/);
    assert.match(again.stdout, /✓ deployables already up/);
    const after = statusJson();
    assert.equal(after.postgres?.pid, postgresPid);
    assert.ok(alive(after.temporal?.pid ?? null), `temporal ${after.temporal?.pid} (started as ${temporalPid})`);
    assert.equal(after.bff?.pid, before.bff?.pid, 'the deployables were not restarted');
    for (const [name, component] of Object.entries(after)) assert.ok(component.healthy, `${name} healthy`);
  });

  it('`up -- --topology kubernetes` runs each deployable in its own process, restarts only one that died; `up` goes back to one', () => {
    const split = cli(['up', '--topology', 'kubernetes']);
    assert.equal(split.code, 0, split.all);
    for (const name of ['bff', 'saga-worker', 'relay', 'projector'])
      assert.match(split.stdout, new RegExp(`✓ ${name}: ${name} \\(pid`));
    const separate = statusJson();
    const pids = ['bff', 'sagaWorker', 'relayWorker', 'projectorWorker'].map((key) => separate[key]?.pid);
    assert.equal(new Set(pids).size, 4, `four processes: ${pids.join(', ')}`);
    assert.ok(
      Object.values(separate).every((c) => c.healthy),
      JSON.stringify(separate),
    );
    // A process that died is restarted on its own; the others keep running.
    const [bffPid, sagaPid, relayPid, projectorPid] = pids;
    process.kill(relayPid!, 'SIGKILL');
    const repaired = cli(['up', '--topology', 'kubernetes']);
    assert.equal(repaired.code, 0, repaired.all);
    assert.match(repaired.stdout, /✓ relay: relay \(pid \d+\)/);
    assert.match(repaired.stdout, /✓ restarted what had stopped/);
    const after = statusJson();
    assert.deepEqual(
      [after.bff?.pid, after.sagaWorker?.pid, after.projectorWorker?.pid],
      [bffPid, sagaPid, projectorPid],
      'the healthy processes were kept',
    );
    assert.notEqual(after.relayWorker?.pid, relayPid);
    assert.equal(after.relayWorker?.healthy, true, JSON.stringify(after.relayWorker));
    pids[2] = after.relayWorker?.pid;

    const unknown = cli(['up', '--topology', 'mainframe']);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /no topology mainframe in the platform model; choose kubernetes, single-vps, split-workers/,
    );

    const one = cli(['up']);
    assert.equal(one.code, 0, one.all);
    const together = statusJson();
    const pid = together.bff?.pid;
    assert.ok(pid, JSON.stringify(together));
    for (const key of ['sagaWorker', 'relayWorker', 'projectorWorker']) assert.equal(together[key]?.pid, pid);
    for (const old of pids)
      assert.equal(alive(old ?? null), false, `process ${old} of the kubernetes topology stopped`);
  });

  it('a taken port fails `up` with its owner and the variable to set', () => {
    const postgresPid = statusJson().postgres?.pid; // (restarted by an earlier test)
    const other = cli(['up'], { STACK_DIR: `${stateDir}-other` });
    rmSync(`${stateDir}-other`, { recursive: true, force: true });
    assert.equal(other.code, 1);
    assert.match(
      other.stderr,
      new RegExp(`✗ postgres: port ${ports.pg} is in use by pid ${postgresPid} .*; set PG_PORT to a free port`),
    );
    assert.doesNotMatch(other.stderr, /\n\s+at /, 'no stack trace');
  });

  it('one trace per request, from the BFF through the saga, the outbox, the relay and the projector, read back from Jaeger', async () => {
    const bff = `http://127.0.0.1:${ports.bff}`;
    const jaeger = firstStatus.traces!.url!;
    const token = cli(['token', '--user', 'tracer']).stdout.trim();
    const api = bffClient(bff, token);
    const traceOf = (response: Response) => {
      const traceId = response.headers.get('x-trace-id') ?? '';
      assert.match(traceId, /^[0-9a-f]{32}$/, 'X-Trace-Id');
      assert.match(response.headers.get('traceparent') ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      return traceId;
    };

    // One POST /v1/tenants: the saga runs in the same trace.
    const created = await api.POST('/v1/tenants', {
      params: { header: { 'Idempotency-Key': `trace-${randomUUID()}` } },
      body: { slug: `traced-${randomUUID().slice(0, 6)}`, name: 'Traced', plan: 'pro' },
    });
    assert.equal(created.response.status, 202);
    const { tenantId } = created.data!;
    const tenantTrace = traceOf(created.response);
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    let steps: string[];
    try {
      const handle = new Client({ connection }).workflow.getHandle(WORKFLOW_IDS.onboarding(tenantId));
      await handle.result();
      steps = [
        ...new Set(
          ((await handle.fetchHistory()).events ?? [])
            .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
            .filter((name): name is string => Boolean(name)),
        ),
      ];
    } finally {
      await connection.close();
    }
    assert.ok(steps.length >= 5, steps.join());
    const sagaComplete = (spans: TraceSpan[]) =>
      steps.every((step) => spans.some((s) => s.name === `RunActivity:${step}`)) &&
      spans.some((s) => s.name === 'RunWorkflow:tenantOnboarding') &&
      spans.some((s) => s.name.startsWith('projector apply Tenant'));
    const saga = await waitForTrace(jaeger, tenantTrace, sagaComplete);
    assert.ok(sagaComplete(saga), `the saga's trace is complete:\n${describeTrace(saga)}`);

    // One increment on the new tenant: straight to the outbox, then the pipeline.
    const incremented = await api.POST('/v1/tenants/{tenantId}/counters/{counterId}/increment', {
      params: { path: { tenantId, counterId: 'traced' }, header: { 'Idempotency-Key': `trace-${randomUUID()}` } },
      body: { by: 1 },
    });
    assert.equal(incremented.response.status, 200);
    const counterTrace = traceOf(incremented.response);
    const counterComplete = (spans: TraceSpan[]) => spans.some((s) => s.name === 'projector apply CounterIncremented');
    const counter = await waitForTrace(jaeger, counterTrace, counterComplete);
    assert.ok(counterComplete(counter), `the increment's trace is complete:\n${describeTrace(counter)}`);

    for (const [spans, traceId, route] of [
      [saga, tenantTrace, 'POST /v1/tenants'],
      [counter, counterTrace, 'POST /v1/tenants/:tenantId/counters/:counterId/increment'],
    ] as const) {
      const dump = describeTrace(spans);
      assert.ok(
        spans.every((s) => s.traceId === traceId),
        'every span has the trace id of the response header',
      );
      const roots = spans.filter((s) => !s.parentId);
      assert.deepEqual(
        roots.map((s) => [s.service, s.name]),
        [['bff', route]],
        `one root, the BFF's request span:\n${dump}`,
      );
      const named = (prefix: string) => spans.filter((s) => s.name.startsWith(prefix));
      const byId = new Map(spans.map((s) => [s.spanId, s]));
      assert.ok(named('outbox insert').length > 0, dump);
      for (const publish of named('relay publish ')) {
        assert.equal(publish.service, 'relay');
        assert.equal(
          byId.get(publish.parentId ?? '')?.name,
          'outbox insert',
          `relay publish under its write:\n${dump}`,
        );
      }
      assert.ok(named('relay publish ').length > 0, dump);
      for (const apply of named('projector apply ')) {
        assert.equal(apply.service, 'projector');
        assert.match(
          byId.get(apply.parentId ?? '')?.name ?? '',
          /^relay publish /,
          `projector apply under its publish:\n${dump}`,
        );
        assert.ok(apply.links.length > 0, 'linked to its batch span');
      }
      assert.ok(named('slonik.executeQuery').length > 0, `queries are spans:\n${dump}`);
    }
    const workflow = saga.find((s) => s.name === 'RunWorkflow:tenantOnboarding')!;
    assert.equal(workflow.service, 'saga-worker');
    assert.equal(workflow.tags['tenant.id'], tenantId);
    for (const step of steps) {
      const activity = saga.find((s) => s.name === `RunActivity:${step}`)!;
      assert.equal(activity.service, 'saga-worker');
      assert.equal(activity.tags['tenant.id'], tenantId);
      assert.equal(activity.tags.temporalWorkflowId, WORKFLOW_IDS.onboarding(tenantId));
      assert.ok(ancestry(saga, activity).includes('RunWorkflow:tenantOnboarding'), `${step} under the workflow`);
    }

    // The deployables' log lines inside a traced context carry its ids.
    const logged = readdirSync(join(stateDir, 'logs'))
      .filter((name) => /^app\.\d+\.log$/.test(name))
      .flatMap((name) =>
        readFileSync(join(stateDir, 'logs', name), 'utf8')
          .trim()
          .split('\n'),
      )
      .map((line) => JSON.parse(line) as { trace_id?: string; span_id?: string; msg?: string });
    assert.ok(
      logged.some((line) => line.trace_id === counterTrace && line.msg === 'request' && line.span_id),
      'the access line of the increment carries trace_id and span_id',
    );

    // The saga worker's /metrics carries the Temporal core's metrics and the saga outcome counter.
    const metrics = await (await fetch(`http://127.0.0.1:${ports.workers}/metrics`)).text();
    assert.match(metrics, /^temporal_worker_polling\{/m, 'our own gauges');
    assert.match(metrics, /^temporal_workflow_task_schedule_to_start_latency_bucket\{/m, 'core metrics');
    assert.match(metrics, /^saga_outcomes\{[^}]*outcome="completed"[^}]*\} [1-9]/m, 'saga outcomes');

    // What a person runs to read the trace in a terminal.
    const printed = cli(['trace', tenantTrace]);
    assert.equal(printed.code, 0, printed.all);
    for (const line of [
      'bff: POST /v1/tenants',
      'saga-worker: RunWorkflow:tenantOnboarding',
      'relay: relay publish ',
      'projector: projector apply ',
    ])
      assert.ok(printed.stdout.includes(line), `${line} in:\n${printed.stdout}`);
  });

  it('`down` stops everything it started; after a new `up` the workflow history is still there', async () => {
    const running = statusJson();
    const down = cli(['down']);
    assert.equal(down.code, 0, down.all);
    const pids = ['bff', 'postgres', 'nats', 'temporal'].map((key) => running[key]?.pid ?? null);
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} stopped`);
    const stopped = statusJson();
    assert.ok(
      Object.values(stopped).every((c) => !c.healthy),
      'nothing healthy after down',
    );

    const up = cli(['up']);
    assert.equal(up.code, 0, up.all);
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    try {
      const description = await new Client({ connection }).workflow.getHandle(workflowId).describe();
      assert.equal(description.status.name, 'COMPLETED');
    } finally {
      await connection.close();
    }
  });
});
