// 5. Sagas: free-plan onboardings (9 activities against real Postgres, NATS and OpenFGA) vs a
// workflow with 9 activities that do nothing, same worker, same server, same concurrency. The ratio
// is what the saga's own work costs on top of Temporal's per-activity round trips.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createOnboardingActivities } from '../activities/tenant-onboarding/onboarding.activities.ts';
import { createTenantService } from '../services/tenant/tenant.commands.ts';
import { runsOf, type BenchContext } from './context.ts';
import { latencyMeasure, medianOf, row, type Measure, type Row } from './measure.ts';
import { noopActivities } from './noop.activities.ts';
import { noopSaga, tenantOnboarding } from './workflows/index.ts';
import { WORKFLOW_IDS } from '../contracts/workflow-names.ts';

// reserve, schema, stream, owner, grant-owner (the OpenFGA tuple), quotas, ensure-provisioned, activate, welcome
const ACTIVITIES_PER_FREE_ONBOARDING = 9;

async function runMany(
  total: number,
  concurrency: number,
  label: string,
  one: (i: number) => Promise<unknown>,
): Promise<Measure> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        await one(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return latencyMeasure(label, latencies, (performance.now() - started) / 1000);
}

export async function sagaRows(ctx: BenchContext): Promise<Row[]> {
  const total = ctx.mode === 'tiny' ? 2 : ctx.mode === 'quick' ? 40 : 200;
  const concurrency = ctx.mode === 'tiny' ? 2 : 10;
  const taskQueue = `bench-sagas-${randomUUID().slice(0, 8)}`;
  const connection = await NativeConnection.connect({ address: ctx.endpoints.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: ctx.namespace,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./workflows/index.ts', import.meta.url)),
    activities: {
      ...createOnboardingActivities({
        pool: ctx.pool,
        tenants: createTenantService({ pool: ctx.pool }),
        jsm: ctx.jsm,
        authz: ctx.authz,
        faultsEnabled: false,
      }),
      ...noopActivities,
    },
  });
  const running = worker.run();
  try {
    ctx.say(`  sagas: ${total} onboardings and ${total} no-op workflows, ${concurrency} at a time…`);
    const options = (id: string) => ({ taskQueue, workflowId: id });
    // one of each first, so neither side pays the worker's warm-up
    await ctx.client.workflow.execute(noopSaga, {
      ...options(`bench-noop-warm-${randomUUID()}`),
      args: [ACTIVITIES_PER_FREE_ONBOARDING],
    });
    let run = 0;
    const onboardings = await medianOf(runsOf(ctx.mode), 'throughput', () => {
      const r = run++;
      return runMany(total, concurrency, 'free-plan onboarding saga (real activities)', (i) => {
        const tenantId = `${ctx.tenantPrefix}s${r}x${i}`;
        return ctx.client.workflow.execute(tenantOnboarding, {
          ...options(WORKFLOW_IDS.onboarding(tenantId)),
          args: [
            { tenantId, slug: `${ctx.tenantPrefix}-${r}-${i}`, name: `Bench ${i}`, plan: 'free', ownerUserId: 'bench' },
          ],
        });
      });
    });
    const noops = await medianOf(runsOf(ctx.mode), 'throughput', () =>
      runMany(total, concurrency, `workflow with ${ACTIVITIES_PER_FREE_ONBOARDING} no-op activities`, () =>
        ctx.client.workflow.execute(noopSaga, {
          ...options(`bench-noop-${randomUUID()}`),
          args: [ACTIVITIES_PER_FREE_ONBOARDING],
        }),
      ),
    );
    const note = `${total} workflows, ${concurrency} at a time, worker in the bench process; goal ≥ 0.80×`;
    return [
      row(
        'sagas',
        `onboarding sagas/s vs no-op workflow with ${ACTIVITIES_PER_FREE_ONBOARDING} activities`,
        'throughput',
        'workflows/s',
        onboardings,
        noops,
        note,
      ),
      row(
        'sagas',
        `onboarding latency vs no-op workflow with ${ACTIVITIES_PER_FREE_ONBOARDING} activities`,
        'p50',
        'ms',
        onboardings,
        noops,
        note,
      ),
    ];
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
}
