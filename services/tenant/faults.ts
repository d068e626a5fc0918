// Fault injection for dev and test runs (docs/architecture.md, "Fault injection"): a fault armed for a tenant slug and a saga
// step fires when the step runs and is consumed as it fires, so a fixed run (after a reset) does
// not hit it again. Only reachable when the deployment's config switches faults on, which is refused
// in production; the table exists only where a fault was armed (migration 0009).
import { sql } from 'slonik';
import { z } from 'zod';
import type { DatabasePool } from '../kernel/database.ts';
import { postgresErrorCode } from '../kernel/postgres-errors.ts';

/** Creates the faults table where fault injection is used (`fault arm`, as the owner role: its rights reach the app role). */
export async function ensureFaultTable(pool: DatabasePool): Promise<void> {
  await pool.query(sql.unsafe`
    create table if not exists fault_injections (
      slug      text    not null,
      step      text    not null,
      mode      text    not null check (mode in ('fail', 'transient')),
      remaining integer not null check (remaining >= 0),
      primary key (slug, step)
    )`);
}

/** Postgres's "undefined table": no fault was ever armed in this database. */
const noFaultTable = (error: unknown) => postgresErrorCode(error) === '42P01';

export const faultMode = z.enum(['fail', 'transient']);
export type FaultMode = z.infer<typeof faultMode>;

export interface ArmedFault {
  slug: string;
  step: string;
  mode: FaultMode;
  /** How many times it fires: `fail` (non-retryable) defaults to 1, `transient` (retryable) to 2. */
  times: number;
}

export async function armFault(pool: DatabasePool, fault: ArmedFault): Promise<void> {
  await ensureFaultTable(pool);
  await pool.query(sql.unsafe`
    insert into fault_injections (slug, step, mode, remaining) values (${fault.slug}, ${fault.step}, ${fault.mode}, ${fault.times})
    on conflict (slug, step) do update set mode = excluded.mode, remaining = excluded.remaining`);
}

/** Takes one firing of the fault armed for (slug, step), if any is left. */
export async function consumeFault(pool: DatabasePool, slug: string, step: string): Promise<FaultMode | null> {
  const row = await pool
    .maybeOne(
      sql.type(z.object({ mode: faultMode }))`
        update fault_injections set remaining = remaining - 1
        where slug = ${slug} and step = ${step} and remaining > 0
        returning mode`,
    )
    .catch((error: unknown) => {
      if (noFaultTable(error)) return null;
      throw error;
    });
  return row?.mode ?? null;
}

/** Removes the fault armed for (slug, step) — "the fix" — and says whether there was one. */
export async function clearFault(pool: DatabasePool, slug: string, step: string): Promise<boolean> {
  const cleared = await pool
    .query(sql.unsafe`delete from fault_injections where slug = ${slug} and step = ${step}`)
    .catch((error: unknown) => {
      if (noFaultTable(error)) return { rowCount: 0 };
      throw error;
    });
  return cleared.rowCount > 0;
}
