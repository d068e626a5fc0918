// Tenant lifecycle rules: statuses, plans and what each plan gets. Pure data and functions.

import type { Plan, TenantStatus } from '../../contracts/tenant.contracts.ts';

export type { Plan, TenantStatus };

/** The counter limit each plan's quota sets. */
export const PLAN_QUOTAS: Record<Plan, { maxCounters: number }> = {
  free: { maxCounters: 10 },
  pro: { maxCounters: 1_000 },
  enterprise: { maxCounters: 100_000 },
};

export interface TenantState {
  tenantId: string;
  slug: string;
  name: string;
  plan: Plan;
  status: TenantStatus;
  ownerUserId: string;
  version: number;
}

/** Which statuses a status may be reached from (a status reached again is a no-op, not an error). */
export const TRANSITIONS: Record<TenantStatus, readonly TenantStatus[]> = {
  provisioning: ['compensated', 'failed'], // reopened by `reserve` when a saga runs again (a reset)
  'awaiting-approval': ['provisioning'],
  active: ['provisioning', 'awaiting-approval'],
  compensated: ['provisioning', 'awaiting-approval', 'failed'],
  failed: ['provisioning', 'awaiting-approval', 'compensated', 'offboarding'],
  offboarding: ['active'],
  archived: ['offboarding'],
};

/** Postgres schema and NATS stream names of a tenant's own resources. */
export function tenantResourceNames(tenantId: string): { schema: string; stream: string } {
  const safe = tenantId.toLowerCase().replace(/[^a-z0-9]/g, '_');
  return { schema: `tenant_${safe}`, stream: `TENANT_${safe.toUpperCase()}` };
}
