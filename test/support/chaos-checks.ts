// What the chaos tier checks after its faults, read from the stack itself: the outbox against
// JetStream and the read models, the counters against what their clients were told, each saga's end
// and the owner tuple it left in OpenFGA, and the BFF's own access log for answers no client saw (an
// aborted request is logged as 499).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'slonik';
import { z } from 'zod';
import { withPipeline } from '../../cli/pipeline-access.ts';
import type { StackSettings } from '../../cli/stack/settings.ts';
import { WORKFLOW_IDS } from '../../contracts/workflow-names.ts';
import { tenantObject, userObject, type Authz } from '../../runtime/authz.ts';
import { measureLag, sloBreaches } from '../../runtime/pipeline-lag.ts';
import { countDeadLetters } from '../../services/read-models/dead-letters.ts';
import { loadProjectionCheckpoint, PROJECTION_NAMES } from '../../services/read-models/projections.ts';
import { readModelsAndFold, storedMessageIds } from './pipeline.ts';
import { until } from './processes.ts';

/** The pipeline's SLO breaches now (runtime/pipeline-lag.ts); a failed measurement is a breach too. */
export async function lagBreaches(settings: StackSettings): Promise<string[]> {
  return withPipeline(settings, ({ pool, jsm, stream }) => measureLag(pool, jsm, stream, PROJECTION_NAMES)).then(
    sloBreaches,
    (error: unknown) => [`lag not measured: ${(error as Error).message}`],
  );
}

const n = z.object({ n: z.coerce.number() });

/**
 * Waits until the relay has published the whole outbox and every projection has applied the whole
 * stream, then compares them event by event.
 */
export async function pipelineAudit(settings: StackSettings, timeoutMs: number) {
  await until(
    'the relay and every projection to catch up with the outbox',
    () =>
      withPipeline(settings, async ({ pool, jsm, stream }) => {
        const outbox = await pool.oneFirst(sql.type(n)`select count(*) as n from event_outbox`);
        const info = await jsm.streams.info(stream.name);
        const checkpoints = await Promise.all(PROJECTION_NAMES.map((name) => loadProjectionCheckpoint(pool, name)));
        return info.state.messages === outbox && checkpoints.every((c) => c === info.state.last_seq);
      }),
    timeoutMs,
  );
  return withPipeline(settings, async ({ pool, jsm, stream }) => {
    const outboxIds = await pool.anyFirst(sql.type(z.object({ id: z.string() }))`
      select event_id::text as id from event_outbox order by position`);
    const streamIds = await storedMessageIds(jsm, stream.name);
    const info = await jsm.streams.info(stream.name);
    const inStream = new Set(streamIds);
    const inOutbox = new Set(outboxIds);
    const byType = await pool.any(sql.type(z.object({ type: z.string(), n: z.coerce.number() }))`
      select aggregate_type as type, count(*) as n from event_outbox group by 1 order by 1`);
    // Each read-model row carries the events applied to it: a counter tenant's activity counts them,
    // a tenant's row is at the version of its last event (versions run 1, 2, … with no gap: I3).
    const applied = {
      counter: await pool.oneFirst(sql.type(n)`select coalesce(sum(events), 0) as n from rm_tenant_activity`),
      tenant: await pool.oneFirst(sql.type(n)`select coalesce(sum(version), 0) as n from rm_tenants`),
    };
    const tenantsFold = await pool.any(sql.type(
      z.object({ tenantId: z.string(), version: z.coerce.number(), folded: z.coerce.number().nullable() }),
    )`
      select t.tenant_id as "tenantId", t.version,
             (select max(aggregate_version) from event_outbox e
              where e.aggregate_type = 'tenant' and e.aggregate_id = t.tenant_id) as folded
      from rm_tenants t order by 1`);
    return {
      outbox: outboxIds.length,
      outboxByType: Object.fromEntries(byType.map((row) => [row.type, row.n])),
      jetstream: streamIds.length,
      jetstreamDistinct: inStream.size,
      lastSequence: info.state.last_seq,
      missingFromStream: outboxIds.filter((id) => !inStream.has(id)).length,
      notInOutbox: streamIds.filter((id) => !inOutbox.has(id)).length,
      checkpoints: Object.fromEntries(
        await Promise.all(PROJECTION_NAMES.map(async (name) => [name, await loadProjectionCheckpoint(pool, name)])),
      ) as Record<string, number>,
      deadLetters: await countDeadLetters(pool),
      applied,
      counterModels: await readModelsAndFold(pool),
      tenantRowsOffFold: tenantsFold.filter((row) => row.version !== row.folded),
    };
  });
}

/** Per counter of `tenant`: its stored value, its events in the outbox and the value its read model shows. */
export async function counterAudit(settings: StackSettings, tenant: string) {
  return withPipeline(settings, ({ pool }) =>
    pool.any(sql.type(
      z.object({
        counter: z.string(),
        value: z.coerce.number(),
        events: z.coerce.number(),
        projected: z.coerce.number().nullable(),
      }),
    )`
      select c.counter_id as counter, c.value,
             (select count(*) from event_outbox e where e.tenant_id = c.tenant_id
                and e.aggregate_type = 'counter' and e.aggregate_id = c.counter_id) as events,
             (select r.value from rm_counter_summary r
              where r.tenant_id = c.tenant_id and r.counter_id = c.counter_id) as projected
      from counters c where c.tenant_id = ${tenant} order by 1`),
  );
}

/** Each tenant's status in the tenants read model. */
export async function tenantStatuses(settings: StackSettings, tenantIds: string[]): Promise<Map<string, string>> {
  const rows = await withPipeline(settings, ({ pool }) =>
    pool.any(sql.type(z.object({ tenantId: z.string(), status: z.string() }))`
      select tenant_id as "tenantId", status from rm_tenants where tenant_id = any(${sql.array(tenantIds, 'text')})`),
  );
  return new Map(rows.map((row) => [row.tenantId, row.status]));
}

/** Per tenant: whether `creator` holds the owner relation in OpenFGA (a stored tuple, not a check through a cache). */
export async function creatorOwns(authz: Authz, tenantIds: string[], creator: string): Promise<Map<string, boolean>> {
  const owner = userObject(creator);
  const owns = await Promise.all(
    tenantIds.map(async (tenantId) => {
      const tuples = await authz.tuplesOn(tenantObject(tenantId));
      return [tenantId, tuples.some((t) => t.relation === 'owner' && t.user === owner)] as const;
    }),
  );
  return new Map(owns);
}

/**
 * How each onboarding saga ended, within `timeoutMs`: `completed`, `compensated after <type> at
 * <step>` (the workflow fails with ONBOARDING_COMPENSATED naming the step's failure), or what else.
 */
export async function sagaOutcomes(
  address: string,
  tenantIds: string[],
  timeoutMs: number,
): Promise<Map<string, string>> {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    const deadline = new Promise<string>((resolve) => setTimeout(() => resolve('still running'), timeoutMs).unref());
    const outcomes = await Promise.all(
      tenantIds.map(async (tenantId) => {
        const result = client.workflow
          .getHandle(WORKFLOW_IDS.onboarding(tenantId))
          .result()
          .then(
            (status: { sagaStatus: string }) => status.sagaStatus,
            (error: unknown) => {
              const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
              if (!(cause instanceof ApplicationFailure)) return `failed: ${(error as Error).message}`;
              const step = /\(([A-Z_]+): injected fault at ([\w-]+)\); compensated$/.exec(cause.message);
              return cause.type === 'ONBOARDING_COMPENSATED' && step
                ? `compensated after ${step[1]} at ${step[2]}`
                : `${cause.type}: ${cause.message}`;
            },
          );
        return [tenantId, await Promise.race([result, deadline])] as const;
      }),
    );
    return new Map(outcomes);
  } finally {
    await connection.close();
  }
}

/** The BFF's access-log lines with a 5xx other than 503, and its unhandled errors; and how many requests it logged as aborted (499). */
export function bffLogAudit(logsDir: string): { serverErrors: string[]; aborted: number; requests: number } {
  const serverErrors: string[] = [];
  let aborted = 0;
  let requests = 0;
  for (const file of readdirSync(logsDir).filter((name) => /^bff\.\d+\.log$/.test(name))) {
    for (const line of readFileSync(join(logsDir, file), 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { msg?: string; status?: number; path?: string; err?: { message?: string } };
      if (entry.msg === 'unhandled error') serverErrors.push(`unhandled error: ${entry.err?.message ?? line}`);
      if (typeof entry.status !== 'number' || !entry.msg?.startsWith('request')) continue;
      requests++;
      if (entry.status === 499) aborted++;
      if (entry.status >= 500 && entry.status !== 503) serverErrors.push(`${entry.status} ${entry.path}`);
    }
  }
  return { serverErrors, aborted, requests };
}
