// Activities of the tenant onboarding saga. Each is idempotent by state (the tenant service only
// writes what differs), fails by failure class (runtime/failures.ts: a domain error is final with its
// code as type, an unavailable server is retried), and passes a fault point first when fault
// injection is switched on.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import type { DatabasePool } from '../../services/kernel/database.ts';
import type { SagaStep } from '../../contracts/workflow-names.ts';
import { isNotFound } from '../../runtime/events-stream.ts';
import { asActivityFailure } from '../../runtime/failures.ts';
import type { EventMetadata } from '../../services/kernel/outbox.ts';
import { consumeFault } from '../../services/tenant/faults.ts';
import type { ReserveInput, TenantService } from '../../services/tenant/tenant.commands.ts';
import { tenantResourceNames } from '../../services/tenant/tenant.domain.ts';

export interface StepInput {
  tenantId: string;
  slug: string;
  /** Workflow id/run id for the events' metadata. */
  metadata: EventMetadata;
  /** The saga step this call is (contracts/workflow-names.ts): its fault point and its name in logs. */
  step: SagaStep;
}

export function createOnboardingActivities(deps: {
  pool: DatabasePool;
  tenants: TenantService;
  jsm: JetStreamManager;
  faultsEnabled: boolean;
}) {
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
    reserveTenant: (input: StepInput & { tenant: ReserveInput }) =>
      step(input, () => deps.tenants.reserve(input.tenant, input.metadata)),
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
