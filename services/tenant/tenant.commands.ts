// The tenant service: every change loads the tenant, changes state only where it differs (idempotent
// by state: a re-run after a retry, crash or reset converges and emits nothing new), CAS-bumps the
// tenant's version and appends the event, in one transaction.
import { sql, type CommonQueryMethods, type DatabaseTransactionConnection, type ValueExpression } from 'slonik';
import { z } from 'zod';
import { resourceId } from '../../contracts/ids.ts';
import { TENANT_ROLES, type MemberRole } from '../../contracts/roles.ts';
import type { TenantEventBody, TenantEventType } from '../../contracts/tenant.events.ts';
import { plan, TENANT_AGGREGATE, TENANT_STATUSES, tenantSlug } from '../../contracts/tenant.contracts.ts';
import { tenantName, userId } from '../../contracts/text.ts';
import { runCommand } from '../kernel/command.ts';
import type { DatabasePool } from '../kernel/database.ts';
import { DomainError } from '../kernel/errors.ts';
import type { EventMetadata } from '../kernel/outbox.ts';
import { postgresErrorCode } from '../kernel/postgres-errors.ts';
import {
  PLAN_QUOTAS,
  tenantResourceNames,
  TRANSITIONS,
  type Plan,
  type TenantState,
  type TenantStatus,
} from './tenant.domain.ts';

const tenantRow = z.object({
  tenantId: z.string(),
  slug: z.string(),
  name: z.string(),
  plan,
  status: z.enum(TENANT_STATUSES),
  ownerUserId: z.string(),
  version: z.coerce.number(),
});

export async function loadTenant(db: CommonQueryMethods, tenantId: string): Promise<TenantState | null> {
  return db.maybeOne(sql.type(tenantRow)`
    select tenant_id as "tenantId", slug, name, plan, status, owner_user_id as "ownerUserId", version
    from tenants where tenant_id = ${tenantId}`);
}

/** Whether another live tenant holds `slug` (the saga's reserve step is the authority; this is the early answer). */
export async function slugTakenByOther(db: CommonQueryMethods, slug: string, tenantId: string): Promise<boolean> {
  const row = await db.maybeOne(sql.unsafe`
    select 1 from tenants where slug = ${slug} and tenant_id <> ${tenantId} and status not in ('compensated', 'archived')`);
  return row !== null;
}

/** A change the tenant service writes: a contract event (contracts/tenant.events.ts) and the columns it sets. */
type TransitionEventType =
  | 'TenantReopened'
  | 'TenantReleased'
  | 'TenantAwaitingApproval'
  | 'TenantActivated'
  | 'TenantFailed'
  | 'TenantDeactivated'
  | 'TenantArchived';

type TenantChange = {
  [K in TenantEventType]: { eventType: K; payload: TenantEventBody<K>; columns?: Record<string, ValueExpression> };
}[TenantEventType];

/** What a change did: whether it wrote anything, and the tenant's version afterwards. */
export interface ChangeResult {
  changed: boolean;
  version: number;
}

export interface ReserveInput {
  tenantId: string;
  slug: string;
  name: string;
  plan: Plan;
  ownerUserId: string;
}

/** A saga's input is checked again here: a run started by hand or by a reset gets a business failure, not a 500. */
const reserveInput = z.object({ tenantId: resourceId, slug: tenantSlug, name: tenantName, plan, ownerUserId: userId });

export function createTenantService(deps: { pool: DatabasePool }) {
  /** Runs `mutate` against the current state; when it reports a change, CAS + event in the same transaction. */
  const change = async (
    tenantId: string,
    metadata: EventMetadata,
    mutate: (tx: DatabaseTransactionConnection, state: TenantState) => Promise<TenantChange | null>,
    whenMissing: 'error' | 'ignore' = 'error',
  ): Promise<ChangeResult> => {
    const { response } = await runCommand<ChangeResult>(deps.pool, {
      aggregate: { tenantId, type: TENANT_AGGREGATE, id: tenantId },
      explicitVersion: false,
      async execute(tx, commit) {
        const state = await loadTenant(tx, tenantId);
        if (!state) {
          if (whenMissing === 'ignore') return { changed: false, version: 0 };
          throw new DomainError('NOT_FOUND', `no tenant ${tenantId}`);
        }
        const next = await mutate(tx, state);
        if (!next) return { changed: false, version: state.version };
        const version = state.version + 1;
        return commit({
          cas: {
            table: 'tenants',
            key: { tenant_id: tenantId },
            expectedVersion: state.version,
            values: { ...(next.columns ?? {}), updated_at: sql.fragment`now()` },
          },
          events: [
            {
              tenantId,
              aggregateType: TENANT_AGGREGATE,
              aggregateId: tenantId,
              aggregateVersion: version,
              eventType: next.eventType,
              schemaVersion: 1,
              payload: { ...next.payload, version },
              metadata,
            },
          ],
          respond: () => ({ changed: true, version }),
        });
      },
    });
    return response;
  };

  /** A change of status with its event; `reason` only for TenantFailed. */
  const transition = (
    tenantId: string,
    to: TenantStatus,
    eventType: Exclude<TransitionEventType, 'TenantFailed'> | { failed: string },
    metadata: EventMetadata,
  ) =>
    change(
      tenantId,
      metadata,
      async (_tx, state) => {
        if (state.status === to) return null;
        if (!TRANSITIONS[to].includes(state.status)) {
          throw new DomainError(
            'TENANT_STATE_CONFLICT',
            `tenant ${tenantId} is ${state.status}; it cannot become ${to}`,
            { tenantStatus: state.status },
          );
        }
        const payload = { from: state.status, to };
        if (typeof eventType !== 'string')
          return {
            eventType: 'TenantFailed',
            payload: { ...payload, reason: eventType.failed },
            columns: { status: to, failure: eventType.failed },
          };
        const changed: TenantChange = { eventType, payload, columns: { status: to } };
        return changed;
      },
      to === 'compensated' ? 'ignore' : 'error',
    );

  /** A row in tenant_resources, inserted or deleted with its event; nothing when already so. */
  const resource = (
    tenantId: string,
    kind: string,
    name: string,
    present: boolean,
    metadata: EventMetadata,
    sideEffect?: (tx: DatabaseTransactionConnection) => Promise<void>,
  ) =>
    change(
      tenantId,
      metadata,
      async (tx) => {
        await sideEffect?.(tx);
        const touched = present
          ? await tx.query(
              sql.unsafe`insert into tenant_resources (tenant_id, kind, name) values (${tenantId}, ${kind}, ${name}) on conflict do nothing`,
            )
          : await tx.query(sql.unsafe`delete from tenant_resources where tenant_id = ${tenantId} and kind = ${kind}`);
        if (touched.rowCount === 0) return null;
        return { eventType: present ? 'TenantResourceProvisioned' : 'TenantResourceRemoved', payload: { kind, name } };
      },
      present ? 'error' : 'ignore',
    );

  return {
    /**
     * Creates the tenant in `provisioning`; does nothing if it is already reserved or further on.
     * A compensated or failed tenant is reopened (`TenantReopened`): its saga runs again, e.g.
     * after `temporal workflow reset`, and takes its slug back if no one else holds it.
     */
    async reserve(input: ReserveInput, metadata: EventMetadata): Promise<ChangeResult> {
      const checked = reserveInput.safeParse(input);
      if (!checked.success) {
        const errors = checked.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
        throw new DomainError(
          'VALIDATION_FAILED',
          `tenant input: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
          { errors },
        );
      }
      try {
        const existing = await loadTenant(deps.pool, input.tenantId);
        if (existing?.status === 'compensated' || existing?.status === 'failed') {
          return await transition(input.tenantId, 'provisioning', 'TenantReopened', metadata);
        }
        const { response } = await runCommand<ChangeResult>(deps.pool, {
          aggregate: { tenantId: input.tenantId, type: TENANT_AGGREGATE, id: input.tenantId },
          explicitVersion: false,
          async execute(tx, commit) {
            const existing = await loadTenant(tx, input.tenantId);
            if (existing) return { changed: false, version: existing.version };
            return commit({
              cas: {
                table: 'tenants',
                key: { tenant_id: input.tenantId },
                expectedVersion: 0,
                values: {
                  slug: input.slug,
                  name: input.name,
                  plan: input.plan,
                  status: 'provisioning',
                  owner_user_id: input.ownerUserId,
                },
              },
              events: [
                {
                  tenantId: input.tenantId,
                  aggregateType: TENANT_AGGREGATE,
                  aggregateId: input.tenantId,
                  aggregateVersion: 1,
                  eventType: 'TenantReserved',
                  schemaVersion: 1,
                  payload: {
                    slug: input.slug,
                    name: input.name,
                    plan: input.plan,
                    ownerUserId: input.ownerUserId,
                    version: 1,
                  },
                  metadata,
                },
              ],
              respond: () => ({ changed: true, version: 1 }),
            });
          },
        });
        return response;
      } catch (error) {
        if (postgresErrorCode(error) === '23505')
          throw new DomainError('SLUG_TAKEN', `slug "${input.slug}" belongs to another tenant`);
        throw error;
      }
    },

    /** Gives the slug back and marks the tenant compensated; nothing to undo when it does not exist. */
    release: (tenantId: string, metadata: EventMetadata) =>
      transition(tenantId, 'compensated', 'TenantReleased', metadata),
    awaitApproval: (tenantId: string, metadata: EventMetadata) =>
      transition(tenantId, 'awaiting-approval', 'TenantAwaitingApproval', metadata),
    activate: (tenantId: string, metadata: EventMetadata) =>
      transition(tenantId, 'active', 'TenantActivated', metadata),
    markFailed: (tenantId: string, reason: string, metadata: EventMetadata) =>
      transition(tenantId, 'failed', { failed: reason }, metadata),
    deactivate: (tenantId: string, metadata: EventMetadata) =>
      transition(tenantId, 'offboarding', 'TenantDeactivated', metadata),
    archive: (tenantId: string, metadata: EventMetadata) =>
      transition(tenantId, 'archived', 'TenantArchived', metadata),

    createSchema: (tenantId: string, metadata: EventMetadata) => {
      const { schema } = tenantResourceNames(tenantId);
      return resource(tenantId, 'postgres-schema', schema, true, metadata, async (tx) => {
        await tx.query(sql.unsafe`select create_tenant_schema(${schema})`); // migration 0010: no DDL rights of our own
      });
    },
    dropSchema: (tenantId: string, metadata: EventMetadata) => {
      const { schema } = tenantResourceNames(tenantId);
      return resource(tenantId, 'postgres-schema', schema, false, metadata, async (tx) => {
        await tx.query(sql.unsafe`select drop_tenant_schema(${schema})`);
      });
    },
    /** Records (or forgets) a resource created outside Postgres, e.g. the tenant's NATS stream. */
    recordResource: (tenantId: string, kind: string, name: string, metadata: EventMetadata) =>
      resource(tenantId, kind, name, true, metadata),
    forgetResource: (tenantId: string, kind: string, metadata: EventMetadata) =>
      resource(tenantId, kind, '', false, metadata),

    addOwner: (tenantId: string, metadata: EventMetadata) =>
      change(tenantId, metadata, async (tx, state) => {
        const added = await tx.query(sql.unsafe`
          insert into tenant_memberships (tenant_id, user_id, role) values (${tenantId}, ${state.ownerUserId}, 'owner') on conflict do nothing`);
        return added.rowCount === 0
          ? null
          : { eventType: 'TenantMemberAdded', payload: { userId: state.ownerUserId, role: 'owner' } };
      }),
    removeOwner: (tenantId: string, metadata: EventMetadata) =>
      change(
        tenantId,
        metadata,
        async (tx, state) => {
          const removed = await tx.query(sql.unsafe`
            delete from tenant_memberships where tenant_id = ${tenantId} and user_id = ${state.ownerUserId} and role = 'owner'`);
          return removed.rowCount === 0
            ? null
            : { eventType: 'TenantMemberRemoved', payload: { userId: state.ownerUserId, role: 'owner' } };
        },
        'ignore',
      ),

    /**
     * Gives `userId` a role (admin, member or viewer) in an active tenant (or one awaiting approval,
     * so its owner can prepare the team), replacing the one they
     * had, or removes their role (`null`; from a tenant in any status). Nothing when it already is so.
     * The owner's membership belongs to onboarding and offboarding: MEMBER_IS_OWNER.
     */
    setMember: (tenantId: string, userId: string, role: MemberRole | null, metadata: EventMetadata) =>
      change(tenantId, metadata, async (tx, state) => {
        if (userId === state.ownerUserId)
          throw new DomainError(
            'MEMBER_IS_OWNER',
            `${userId} owns tenant ${tenantId}; ownership changes only with onboarding and offboarding`,
          );
        if (role !== null && state.status !== 'active' && state.status !== 'awaiting-approval')
          throw new DomainError(
            'TENANT_STATE_CONFLICT',
            `tenant ${tenantId} is ${state.status}; members are added to an active tenant (or one awaiting approval) only`,
            { tenantStatus: state.status },
          );
        const current = await tx.maybeOneFirst(sql.type(z.object({ role: z.enum(TENANT_ROLES) }))`
          select role from tenant_memberships where tenant_id = ${tenantId} and user_id = ${userId}`);
        if ((current ?? null) === role) return null;
        if (role === null) {
          if (current === null) return null;
          await tx.query(
            sql.unsafe`delete from tenant_memberships where tenant_id = ${tenantId} and user_id = ${userId}`,
          );
          return { eventType: 'TenantMemberRemoved', payload: { userId, role: current } };
        }
        await tx.query(sql.unsafe`
          insert into tenant_memberships (tenant_id, user_id, role) values (${tenantId}, ${userId}, ${role})
          on conflict (tenant_id, user_id) do update set role = excluded.role`);
        return current === null
          ? { eventType: 'TenantMemberAdded', payload: { userId, role } }
          : { eventType: 'TenantMemberRoleChanged', payload: { userId, from: current, to: role } };
      }),

    applyQuotas: (tenantId: string, metadata: EventMetadata) =>
      change(tenantId, metadata, async (tx, state) => {
        const quota = PLAN_QUOTAS[state.plan];
        const applied = await tx.query(sql.unsafe`
          insert into tenant_quotas (tenant_id, max_counters) values (${tenantId}, ${quota.maxCounters}) on conflict do nothing`);
        return applied.rowCount === 0
          ? null
          : { eventType: 'TenantQuotasApplied', payload: { maxCounters: quota.maxCounters } };
      }),
    revertQuotas: (tenantId: string, metadata: EventMetadata) =>
      change(
        tenantId,
        metadata,
        async (tx) => {
          const reverted = await tx.query(sql.unsafe`delete from tenant_quotas where tenant_id = ${tenantId}`);
          return reverted.rowCount === 0 ? null : { eventType: 'TenantQuotasReverted', payload: {} };
        },
        'ignore',
      ),

    sendWelcome: (tenantId: string, metadata: EventMetadata) =>
      change(tenantId, metadata, async (tx) => {
        const sent = await tx.maybeOne(sql.unsafe`
          select 1 from event_outbox
          where tenant_id = ${tenantId} and aggregate_type = ${TENANT_AGGREGATE} and aggregate_id = ${tenantId}
            and event_type = 'TenantWelcomeSent'`);
        return sent ? null : { eventType: 'TenantWelcomeSent', payload: {} };
      }),
  };
}

export type TenantService = ReturnType<typeof createTenantService>;
