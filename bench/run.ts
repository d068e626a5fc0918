// `npm run bench [-- --full]`: every benchmark against its baseline in the same run, in a sandbox on
// the stack that `npm run up` started (its own database, Temporal namespace, NATS stream and OpenFGA store).
// Writes bench/results/latest.{json,md} and growth.svg; prints the table.
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { measureLag } from '../runtime/pipeline-lag.ts';
import { PROJECTION_NAMES } from '../services/read-models/projections.ts';
import { tenantOnboarding } from '../workflows/tenant-onboarding/tenant-onboarding.workflow.ts';
import { authzRows } from './authz.bench.ts';
import { commandRows } from './command.bench.ts';
import { openBenchContext, type BenchContext, type BenchMode, type StackEndpoints } from './context.ts';
import { emmettRows } from './emmett.bench.ts';
import { idempotencyRows } from './idempotency.bench.ts';
import { waitFor, type Row } from './measure.ts';
import { coldStartRows, imageRows, memoryFloors, memoryRows } from './artifact.bench.ts';
import { newMemoryBook, recordIdle, samplePeak } from './memory.ts';
import { freshnessRows, growth, rebuildRows, relayedUpTo, relayRows, type GrowthPoint } from './pipeline.bench.ts';
import { markdown, syncReadme, writeReport, type BenchReport } from './report.ts';
import { sagaRows } from './sagas.bench.ts';
import { TASK_QUEUES, WORKFLOW_IDS } from '../contracts/workflow-names.ts';

export const RESULTS_DIR = join(import.meta.dirname, 'results');

export async function runBench(
  mode: BenchMode,
  endpoints: StackEndpoints,
  outDir: string,
  say: (line: string) => void,
): Promise<BenchReport> {
  const started = Date.now();
  const ctx = await openBenchContext(mode, endpoints, say);
  const interrupted = () => {
    say('✗ interrupted: removing the bench sandbox…');
    void ctx.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const memory = newMemoryBook();
  const rows: Row[] = [];
  let points: GrowthPoint[] = [];
  const step = async (title: string, work: () => Promise<void>) => {
    say(`▶ ${title}`);
    const t0 = Date.now();
    await work();
    say(`  done in ${Math.round((Date.now() - t0) / 1000)} s`);
  };
  try {
    await step('command path: pgbench vs service vs HTTP', async () => {
      await recordIdle(ctx, memory, 'bff');
      const command = await samplePeak(ctx, memory, ['bff'], () => commandRows(ctx));
      rows.push(...command.rows);
      rows.push(...(await emmettRows(ctx, command.service)));
    });
    await step("authorization: the BFF's OpenFGA check vs a one-tuple check, and its decision cache", async () => {
      rows.push(...(await authzRows(ctx)));
    });
    await step('relay: outbox → JetStream vs raw publish', async () => {
      await recordIdle(ctx, memory, 'relay', () =>
        waitFor('the relay to catch up', () => relayedUpTo(ctx), 600_000, 100),
      );
      rows.push(...(await samplePeak(ctx, memory, ['relay'], () => relayRows(ctx))));
    });
    await step('freshness: commit → read model', async () => {
      await recordIdle(ctx, memory, 'projector', () => caughtUp(ctx));
      rows.push(...(await samplePeak(ctx, memory, ['relay', 'projector'], () => freshnessRows(ctx))));
    });
    await step('rebuild: replay vs raw scan', async () => {
      rows.push(...(await samplePeak(ctx, memory, ['projector'], () => rebuildRows(ctx))));
    });
    await step('growth: relay and rebuild as the outbox grows', async () => {
      const result = await growth(ctx);
      points = result.points;
      rows.push(...result.rows);
    });
    await step('sagas: onboarding vs no-op workflow', async () => {
      await recordIdle(ctx, memory, 'saga-worker');
      await samplePeak(ctx, memory, ['saga-worker'], () => sagasOnTheDeployable(ctx));
      rows.push(...(await sagaRows(ctx)));
    });
    await step('idempotency keys: size and pruning', async () => {
      rows.push(...(await idempotencyRows(ctx)).rows);
    });
    await step('the artefact: memory floors, cold start compiled vs tsx, image size', async () => {
      rows.push(...memoryRows(await memoryFloors(ctx), memory));
      rows.push(...(await coldStartRows(ctx)));
      rows.push(...imageRows(ctx));
    });
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await ctx.close();
  }
  const report: BenchReport = {
    generatedAt: new Date().toISOString(),
    mode,
    machine: describeMachine(endpoints),
    rows,
    growth: points,
  };
  const files = writeReport(outDir, report);
  if (outDir === RESULTS_DIR) {
    syncReadme(markdown(report));
    files.push('README.md (Performance)');
  }
  process.stdout.write(`\n${markdown(report)}\n`);
  say(`✓ ${rows.length} rows in ${Math.round((Date.now() - started) / 1000)} s → ${files.join(', ')}`);
  return report;
}

/** Every projection has applied everything the relay published. */
async function caughtUp(ctx: BenchContext): Promise<void> {
  await waitFor(
    'the projections to catch up',
    async () => {
      const lag = await measureLag(ctx.pool, ctx.jsm, ctx.stream, PROJECTION_NAMES);
      return lag.relay.events === 0 && Object.values(lag.projections).every((p) => p.events === 0);
    },
    600_000,
    200,
  );
}

/** A few onboardings through the saga-worker process itself, so its memory is seen under work. */
async function sagasOnTheDeployable(ctx: BenchContext): Promise<void> {
  const count = ctx.mode === 'tiny' ? 2 : 10;
  await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const tenantId = `${ctx.tenantPrefix}d${i}`;
      return ctx.client.workflow.execute(tenantOnboarding, {
        taskQueue: TASK_QUEUES.sagas,
        workflowId: WORKFLOW_IDS.onboarding(tenantId),
        args: [
          {
            tenantId,
            slug: `${ctx.tenantPrefix}-d${i}`,
            name: `Bench ${i}`,
            plan: 'free' as const,
            ownerUserId: 'bench',
          },
        ],
      });
    }),
  );
}

function describeMachine(endpoints: StackEndpoints): Record<string, string | number> {
  const version = (command: string, args: string[]) => {
    try {
      return execFileSync(command, args, { encoding: 'utf8' }).split('\n')[0]!.trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    cpus: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown'}`,
    memory: `${Math.round(totalmem() / 1024 ** 3)} GiB`,
    node: process.version,
    postgres: version(join(endpoints.pgBin, 'postgres'), ['--version']),
  };
}
