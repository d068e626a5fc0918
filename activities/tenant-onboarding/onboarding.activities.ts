// Activities of the tenant onboarding saga. Each is idempotent by state (the tenant service only
// writes what differs), fails by failure class (runtime/failures.ts: a domain error is final with its
// code as type, an unavailable server is retried), and passes a fault point first when fault
// injection is switched on.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import type { DatabasePool } from '../../services/kernel/database.ts';
import type { MemberRole } from '../../contracts/roles.ts';
import { MEMBER_RELATIONS, tenantObject, userObject, type Authz, type Tuple } from '../../runtime/authz.ts';
import type { SagaStep } from '../../contracts/workflow-names.ts';
import { isNotFound } from '../../runtime/events-stream.ts';
import { asActivityFailure } from '../../runtime/failures.ts';
import type { EventMetadata } from '../../services/kernel/outbox.ts';
import { consumeFault } from '../../services/tenant/faults.ts';
import { loadTenant, type ReserveInput, type TenantService } from '../../services/tenant/tenant.commands.ts';
import { tenantResourceNames } from '../../services/tenant/tenant.domain.ts';

export interface StepInput {
  tenantId: string;
  slug: string;
  /** Workflow id/run id for the events' metadata. */
  metadata: EventMetadata;
  /** The saga step this call is (contracts/workflow-names.ts): its fault point and its name in logs. */
  step: SagaStep;
}

/** One membership change (workflows/tenant-onboarding/tenant-membership.workflow.ts); role null removes it. */
export interface MembershipInput {
  tenantId: string;
  userId: string;
  role: MemberRole | null;
  metadata: EventMetadata;
}

export function createOnboardingActivities(deps: {
  pool: DatabasePool;
  tenants: TenantService;
  jsm: JetStreamManager;
  authz: Authz;
  faultsEnabled: boolean;
}) {
  const classified = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw asActivityFailure(error, Context.current().info.attempt);
    }
  };
  /** Runs a step behind its fault point; what it throws is classified (runtime/failures.ts). */
  const step = async <T>(input: StepInput, work: () => Promise<T>): Promise<T> => {
    const name = input.step;
    try {
      if (deps.faultsEnabled) {
        const fault = await consumeFault(deps.pool, input.slug, name);
        if (fault === 'fail') throw ApplicationFailure.nonRetryable(`injected fault at ${name}`, 'INJECTED_FAULT');
        if (fault === 'transient')
          throw ApplicationFailure.retryable(`injected transient fault at ${name}`, 'INJECTED_TRANSIENT_FAULT');
      }
      return await work();
    } catch (error) {
      throw asActivityFailure(error, Context.current().info.attempt);
    }
  };
  const stream = (tenantId: string) => tenantResourceNames(tenantId).stream;
  /** The tuple that makes `relation` of the tenant out of its creator. */
  const creatorTuple = (tenant: Pick<ReserveInput, 'tenantId' | 'ownerUserId'>, relation: 'initiator' | 'owner') => ({
    user: userObject(tenant.ownerUserId),
    relation,
    object: tenantObject(tenant.tenantId),
  });
  const ownerTuple = async (tenantId: string) => {
    const tenant = await loadTenant(deps.pool, tenantId);
    return tenant ? [creatorTuple(tenant, 'owner')] : [];
  };

  /** A JetStream stream for the tenant's own config/messages; created idempotently, then recorded. */
  const createNatsStream = async (input: StepInput) => {
    const name = stream(input.tenantId);
    const exists = await deps.jsm.streams.info(name).then(
      () => true,
      (error: unknown) => {
        if (isNotFound(error)) return false;
        throw error; // an outage is not absence
      },
    );
    if (!exists) {
      await deps.jsm.streams.add({
        name,
        subjects: [`tenant.${input.tenantId}.>`],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
      });
    }
    return deps.tenants.recordResource(input.tenantId, 'nats-stream', name, input.metadata);
  };

  return {
    /** Reserves, and lets the creator follow the onboarding (the `initiator` tuple; the BFF wrote it before the start too). */
    reserveTenant: (input: StepInput & { tenant: ReserveInput }) =>
      step(input, async () => {
        const reserved = await deps.tenants.reserve(input.tenant, input.metadata);
        await deps.authz.grant([creatorTuple(input.tenant, 'initiator')]);
        return reserved;
      }),
    releaseTenant: (input: StepInput) => step(input, () => deps.tenants.release(input.tenantId, input.metadata)),

    createTenantSchema: (input: StepInput) =>
      step(input, () => deps.tenants.createSchema(input.tenantId, input.metadata)),
    dropTenantSchema: (input: StepInput) => step(input, () => deps.tenants.dropSchema(input.tenantId, input.metadata)),

    createTenantNatsResources: (input: StepInput) => step(input, () => createNatsStream(input)),
    deleteTenantNatsResources: (input: StepInput) =>
      step(input, async () => {
        const name = stream(input.tenantId);
        await deps.jsm.streams.delete(name).catch((error: unknown) => {
          if (!isNotFound(error)) throw error; // a stream that is not there: nothing to undo
        });
        return deps.tenants.forgetResource(input.tenantId, 'nats-stream', input.metadata);
      }),

    addOwnerMembership: (input: StepInput) => step(input, () => deps.tenants.addOwner(input.tenantId, input.metadata)),
    removeOwnerMembership: (input: StepInput) =>
      step(input, () => deps.tenants.removeOwner(input.tenantId, input.metadata)),

    /** The creator becomes the owner in OpenFGA: from here on their own token reads and writes the tenant. */
    grantOwner: (input: StepInput) => step(input, async () => deps.authz.grant(await ownerTuple(input.tenantId))),
    revokeOwner: (input: StepInput) => step(input, async () => deps.authz.revoke(await ownerTuple(input.tenantId))),
    /** Offboarding: every tuple on the tenant goes (owner, members, initiator). */
    revokeAllAccess: (input: StepInput) =>
      step(input, async () => {
        const tuples = await deps.authz.tuplesOn(tenantObject(input.tenantId));
        await deps.authz.revoke(tuples);
        return { revoked: tuples.length };
      }),

    /** The membership workflow's two steps: the row and its event, then the tuples. */
    recordMembership: (input: MembershipInput) =>
      classified(() => deps.tenants.setMember(input.tenantId, input.userId, input.role, input.metadata)),
    syncMembershipTuples: (input: MembershipInput) =>
      classified(async () => {
        const user = userObject(input.userId);
        const object = tenantObject(input.tenantId);
        const others: Tuple[] = MEMBER_RELATIONS.filter((r) => r !== 'owner' && r !== input.role).map((relation) => ({
          user,
          relation,
          object,
        }));
        await deps.authz.revoke(others);
        if (input.role !== null) await deps.authz.grant([{ user, relation: input.role, object }]);
      }),

    applyPlanQuotas: (input: StepInput) => step(input, () => deps.tenants.applyQuotas(input.tenantId, input.metadata)),
    revertPlanQuotas: (input: StepInput) =>
      step(input, () => deps.tenants.revertQuotas(input.tenantId, input.metadata)),

    /**
     * Every forward step again, right before the pivot; each is a no-op when its resource is in
     * place. A run resumed mid-way by a reset skips the steps before the reset point, whose effects
     * an earlier run's compensations may have removed: this puts them back. Returns what it redid.
     */
    ensureProvisioned: (input: StepInput & { tenant: ReserveInput }) =>
      step(input, async () => {
        const redone: string[] = [];
        const again = async (name: string, work: () => Promise<{ changed: boolean }>) => {
          if ((await work()).changed) redone.push(name);
        };
        await again('reserve', () => deps.tenants.reserve(input.tenant, input.metadata));
        await again('create-schema', () => deps.tenants.createSchema(input.tenantId, input.metadata));
        await again('create-nats-resources', () => createNatsStream(input));
        await again('add-owner', () => deps.tenants.addOwner(input.tenantId, input.metadata));
        await deps.authz.grant([creatorTuple(input.tenant, 'initiator'), creatorTuple(input.tenant, 'owner')]);
        await again('apply-quotas', () => deps.tenants.applyQuotas(input.tenantId, input.metadata));
        return { redone };
      }),

    markAwaitingApproval: (input: StepInput) =>
      step(input, () => deps.tenants.awaitApproval(input.tenantId, input.metadata)),
    activateTenant: (input: StepInput) => step(input, () => deps.tenants.activate(input.tenantId, input.metadata)),
    sendWelcome: (input: StepInput) => step(input, () => deps.tenants.sendWelcome(input.tenantId, input.metadata)),
    markTenantFailed: (input: Omit<StepInput, 'step'> & { reason: string }) =>
      deps.tenants.markFailed(input.tenantId, input.reason, input.metadata),

    // Offboarding: the same idempotent operations, forward only.
    deactivateTenant: (input: StepInput) => step(input, () => deps.tenants.deactivate(input.tenantId, input.metadata)),
    archiveTenant: (input: StepInput) => step(input, () => deps.tenants.archive(input.tenantId, input.metadata)),
  };
}

export type OnboardingActivities = ReturnType<typeof createOnboardingActivities>;
