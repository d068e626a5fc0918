// SQL for the `counters` table (see migrations/0003-counters.sql).
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { compareAndSet } from '../kernel/cas.ts';
import { DomainError } from '../kernel/errors.ts';
import { NEW_COUNTER, type CounterState } from './counter.domain.ts';

export interface CounterKey {
  tenantId: string;
  counterId: string;
}

const counterRow = z.object({ value: z.coerce.number().int(), version: z.coerce.number().int() });

export async function loadCounter(db: CommonQueryMethods, key: CounterKey): Promise<CounterState> {
  const row = await db.maybeOne(sql.type(counterRow)`
    select value, version from counters where tenant_id = ${key.tenantId} and counter_id = ${key.counterId}`);
  return row ?? NEW_COUNTER;
}

/** CAS write of the new state; throws VERSION_CONFLICT when the row moved past `expectedVersion`. */
export async function saveCounter(
  db: CommonQueryMethods,
  key: CounterKey,
  expectedVersion: number,
  state: CounterState,
): Promise<void> {
  await compareAndSet(db, {
    table: 'counters',
    key: { tenant_id: key.tenantId, counter_id: key.counterId },
    expectedVersion,
    values: { value: state.value, updated_at: sql.fragment`now()` },
  });
}

/**
 * Writes stop while a tenant is offboarded (the offboarding saga's first step, workflows/tenant-onboarding/tenant-offboarding.workflow.ts). The one read the
 * counter service makes of tenant state; tenants that never went through onboarding have no row.
 */
export async function assertTenantAcceptsWrites(db: CommonQueryMethods, tenantId: string): Promise<void> {
  const closed = await db.maybeOne(
    sql.unsafe`select status from tenants where tenant_id = ${tenantId} and status in ('offboarding', 'archived')`,
  );
  if (closed)
    throw new DomainError('FORBIDDEN', `tenant ${tenantId} is offboarded; its counters no longer accept writes`);
}

const quotaRow = z.object({ maxCounters: z.coerce.number(), used: z.coerce.number() });

/**
 * A new counter must fit the tenant's plan quota (applied by onboarding). Tenants without a quota
 * row — never onboarded — are not limited.
 */
export async function assertCounterQuota(db: CommonQueryMethods, tenantId: string): Promise<void> {
  const quota = await db.maybeOne(sql.type(quotaRow)`
    select q.max_counters as "maxCounters", (select count(*) from counters c where c.tenant_id = q.tenant_id) as used
    from tenant_quotas q where q.tenant_id = ${tenantId}`);
  if (quota && quota.used >= quota.maxCounters) {
    throw new DomainError(
      'QUOTA_EXCEEDED',
      `tenant ${tenantId} has used all ${quota.maxCounters} counters of its plan`,
      { maxCounters: quota.maxCounters },
    );
  }
}
