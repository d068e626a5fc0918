// SQL for the `counters` table (see migrations/0003-counters.sql).
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { TENANT_STATUSES } from '../../contracts/tenant.contracts.ts';
import type { CasWrite } from '../kernel/cas.ts';
import { DomainError } from '../kernel/errors.ts';
import { NEW_COUNTER, type CounterState } from './counter.domain.ts';

export interface CounterKey {
  tenantId: string;
  counterId: string;
}

const counterRow = z.object({
  value: z.coerce.number().int().nullable(),
  version: z.coerce.number().int().nullable(),
  status: z.enum(TENANT_STATUSES).nullable(),
});

/**
 * The counter's state for a write, in one round trip with the one read the counter service makes of
 * tenant state: only an `active` tenant accepts writes. One that was never onboarded is NOT_FOUND;
 * one still onboarding, compensated, failed or offboarded (the offboarding saga's first step,
 * workflows/tenant-onboarding/tenant-offboarding.workflow.ts) is TENANT_STATE_CONFLICT.
 */
export async function loadCounterForWrite(db: CommonQueryMethods, key: CounterKey): Promise<CounterState> {
  const row = await db.one(sql.type(counterRow)`
    select c.value, c.version, (select t.status from tenants t where t.tenant_id = ${key.tenantId}) as status
    from (select) one
    left join counters c on c.tenant_id = ${key.tenantId} and c.counter_id = ${key.counterId}`);
  if (row.status === null) throw new DomainError('NOT_FOUND', `no tenant ${key.tenantId}`);
  if (row.status !== 'active')
    throw new DomainError(
      'TENANT_STATE_CONFLICT',
      `tenant ${key.tenantId} is ${row.status}; only an active tenant's counters accept writes`,
      { tenantStatus: row.status },
    );
  return row.value === null || row.version === null ? NEW_COUNTER : { value: row.value, version: row.version };
}

/** The CAS write of the new state (services/kernel/cas.ts): VERSION_CONFLICT if the row moved past `expectedVersion`. */
export function counterWrite(key: CounterKey, expectedVersion: number, state: CounterState): CasWrite {
  return {
    table: 'counters',
    key: { tenant_id: key.tenantId, counter_id: key.counterId },
    expectedVersion,
    values: { value: state.value, updated_at: sql.fragment`now()` },
  };
}

const quotaRow = z.object({ maxCounters: z.coerce.number(), used: z.coerce.number() });

/**
 * A new counter must fit the tenant's plan quota (applied by onboarding). First writes of one tenant
 * are serialised on its quota row: the lock is taken first, and the count is a statement of its own,
 * so it sees every counter committed by the write that held the lock before (in one statement its
 * snapshot would predate them). A tenant without a quota row may create no counter: no quota is not
 * "unlimited".
 */
export async function assertCounterQuota(db: CommonQueryMethods, tenantId: string): Promise<void> {
  await db.query(sql.unsafe`select 1 from tenant_quotas where tenant_id = ${tenantId} for update`);
  const quota = await db.maybeOne(sql.type(quotaRow)`
    select q.max_counters as "maxCounters", (select count(*) from counters c where c.tenant_id = q.tenant_id) as used
    from tenant_quotas q where q.tenant_id = ${tenantId}`);
  if (!quota)
    throw new DomainError(
      'QUOTA_EXCEEDED',
      `tenant ${tenantId} has no counter quota; its plan's quotas are not applied`,
      {
        maxCounters: 0,
      },
    );
  if (quota.used >= quota.maxCounters) {
    throw new DomainError(
      'QUOTA_EXCEEDED',
      `tenant ${tenantId} has used all ${quota.maxCounters} counters of its plan`,
      { maxCounters: quota.maxCounters },
    );
  }
}
