// Events of the tenant aggregate (services/tenant/tenant.commands.ts), as written to the outbox and
// published on NATS. Every payload carries the aggregate version the event created.
import { z } from 'zod';
import { TENANT_ROLES } from './roles.ts';
import { plan, TENANT_STATUSES } from './tenant.contracts.ts';

const version = z.number().int().min(1).describe('The aggregate version this event created');
const status = z.enum(TENANT_STATUSES);
const role = z.enum(TENANT_ROLES);

/** A change of status (the lifecycle in services/tenant/tenant.domain.ts). */
const transition = z.object({ from: status, to: status, version }).strict();
/** A resource provisioned outside the tenant tables (a Postgres schema, a NATS stream), or removed. */
const resource = z
  .object({ kind: z.string().min(1), name: z.string().describe('Empty when removed by kind'), version })
  .strict();
const member = z.object({ userId: z.string().min(1), role, version }).strict();
const versionOnly = z.object({ version }).strict();

export const tenantEvents = {
  TenantReserved: {
    schemaVersion: 1,
    payload: z
      .object({ slug: z.string(), name: z.string(), plan, ownerUserId: z.string(), version })
      .strict()
      .describe('The tenant exists, in provisioning; its slug is taken'),
  },
  TenantReopened: {
    schemaVersion: 1,
    payload: transition.describe('A compensated or failed tenant runs its saga again'),
  },
  TenantReleased: { schemaVersion: 1, payload: transition.describe('Compensated: the slug is free again') },
  TenantAwaitingApproval: { schemaVersion: 1, payload: transition },
  TenantActivated: { schemaVersion: 1, payload: transition.describe('The pivot: active, counters accept writes') },
  TenantFailed: {
    schemaVersion: 1,
    payload: transition.extend({ reason: z.string() }).strict().describe('A compensation could not complete'),
  },
  TenantDeactivated: { schemaVersion: 1, payload: transition.describe('Offboarding began: writes stop') },
  TenantArchived: { schemaVersion: 1, payload: transition },
  TenantResourceProvisioned: { schemaVersion: 1, payload: resource },
  TenantResourceRemoved: { schemaVersion: 1, payload: resource },
  TenantMemberAdded: { schemaVersion: 1, payload: member },
  TenantMemberRemoved: { schemaVersion: 1, payload: member },
  TenantMemberRoleChanged: {
    schemaVersion: 1,
    payload: z.object({ userId: z.string().min(1), from: role, to: role, version }).strict(),
  },
  TenantQuotasApplied: {
    schemaVersion: 1,
    payload: z.object({ maxCounters: z.number().int().min(0), version }).strict(),
  },
  TenantQuotasReverted: { schemaVersion: 1, payload: versionOnly },
  TenantWelcomeSent: { schemaVersion: 1, payload: versionOnly },
} as const;

export type TenantEventType = keyof typeof tenantEvents;
/** A tenant event's payload without its version (the tenant service adds the version it creates). */
export type TenantEventBody<K extends TenantEventType> = Omit<z.input<(typeof tenantEvents)[K]['payload']>, 'version'>;
