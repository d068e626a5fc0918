// Fault injection for dev and test runs (docs/architecture.md, "Fault injection"): a fault armed for a tenant slug and a saga
// step fires when the step runs and is consumed as it fires, so a fixed run (after a reset) does
// not hit it again. Only reachable when the deployment's config switches faults on.
import { sql } from 'slonik';
import { z } from 'zod';
import type { DatabasePool } from '../kernel/database.ts';

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
  await pool.query(sql.unsafe`
    insert into fault_injections (slug, step, mode, remaining) values (${fault.slug}, ${fault.step}, ${fault.mode}, ${fault.times})
    on conflict (slug, step) do update set mode = excluded.mode, remaining = excluded.remaining`);
}

/** Takes one firing of the fault armed for (slug, step), if any is left. */
export async function consumeFault(pool: DatabasePool, slug: string, step: string): Promise<FaultMode | null> {
  const row = await pool.maybeOne(sql.type(z.object({ mode: faultMode }))`
    update fault_injections set remaining = remaining - 1
    where slug = ${slug} and step = ${step} and remaining > 0
    returning mode`);
  return row?.mode ?? null;
}

/** Removes the fault armed for (slug, step) — "the fix" — and says whether there was one. */
export async function clearFault(pool: DatabasePool, slug: string, step: string): Promise<boolean> {
  const cleared = await pool.query(sql.unsafe`delete from fault_injections where slug = ${slug} and step = ${step}`);
  return cleared.rowCount > 0;
}
