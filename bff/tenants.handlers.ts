// Tenant routes: creation starts the onboarding saga (deterministic ids, so a retry is the same
// saga), reads come from the tenants read model, status and approval talk to the workflow, members
// are changed by the membership workflow, whose completion the request waits for.
import { createHash, randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import { isErrorCode, problemExtensions, type ErrorCode } from '../contracts/errors.ts';
import { TASK_QUEUES, WORKFLOW_IDS } from '../contracts/workflow-names.ts';
import { readTenant } from '../services/read-models/tenants.read-model.ts';
import type { DatabasePool } from '../services/kernel/database.ts';
import { requestHash } from '../services/kernel/idempotency.ts';
import { loadTenant, slugTakenByOther } from '../services/tenant/tenant.commands.ts';
import { tenantObject, userObject, type Authz } from '../runtime/authz.ts';
import { tenantMembership } from '../workflows/tenant-onboarding/tenant-membership.workflow.ts';
import { tenantOffboarding } from '../workflows/tenant-onboarding/tenant-offboarding.workflow.ts';
import {
  approveSignal,
  onboardingStatusQuery,
  tenantOnboarding,
} from '../workflows/tenant-onboarding/tenant-onboarding.workflow.ts';
import type { RouteHandlers } from './api.router.ts';
import { HttpProblem } from './problem.ts';

const hashOf = (...parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('hex');

/** A workflow that failed with a code of ours (a DomainError in an activity) answers that code and its details. */
function asProblem(error: unknown): unknown {
  if (!(error instanceof WorkflowFailedError)) return error;
  for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ApplicationFailure && isErrorCode(cause.type)) {
      const details = problemExtensions(cause.type).safeParse(cause.details?.[0] ?? {});
      return new HttpProblem<ErrorCode>(cause.type, cause.message, details.success ? details.data : {});
    }
  }
  return error;
}

/** The tenant id a user's Idempotency-Key stands for: the same key always means the same tenant. */
export function tenantIdFor(userId: string, idempotencyKey: string): string {
  return `t${hashOf(userId, idempotencyKey).slice(0, 20)}`;
}

export function tenantHandlers(deps: {
  pool: DatabasePool;
  temporal: Client;
  authz: Authz;
  /** OnboardingInput.retryHorizonMs of every saga started here. */
  retryHorizonMs: number;
}): Pick<
  RouteHandlers,
  'createTenant' | 'getTenant' | 'getOnboarding' | 'deleteTenant' | 'approveOnboarding' | 'addMember' | 'removeMember'
> {
  const handleOf = (tenantId: string) => deps.temporal.workflow.getHandle(WORKFLOW_IDS.onboarding(tenantId));
  const notFound = (tenantId: string) => new HttpProblem('NOT_FOUND', `no tenant ${tenantId}`);
  /** Waits for the membership workflow; its access change holds from here, here at once (no cached allow). */
  const settleMembership = async (workflowId: string, userId: string, replayed: boolean) => {
    const result = await deps.temporal.workflow
      .getHandle<typeof tenantMembership>(workflowId)
      .result()
      .catch((error: unknown) => {
        throw asProblem(error);
      });
    deps.authz.forget(userObject(userId));
    return {
      status: 200 as const,
      body: { ...result, workflowId },
      replayed,
    };
  };

  return {
    createTenant: async (input) => {
      const { body } = input;
      const tenantId = tenantIdFor(input.principal.userId, input.idempotencyKey);
      const workflowId = WORKFLOW_IDS.onboarding(tenantId);
      const hash = requestHash(body);
      const created = {
        status: 202 as const,
        body: { tenantId, workflowId, status: 'onboarding' as const },
        headers: { Location: `/v1/tenants/${tenantId}/onboarding` },
      };
      if (await slugTakenByOther(deps.pool, body.slug, tenantId))
        throw new HttpProblem('SLUG_TAKEN', `slug "${body.slug}" belongs to another tenant; choose another`);
      // The creator follows the onboarding from the 202 on: the same tuple the saga's reserve step
      // writes, written first here (a retry writes it again; a start that fails leaves a tuple on a
      // tenant that does not exist, which grants nothing).
      await deps.authz.grant([
        { user: userObject(input.principal.userId), relation: 'initiator', object: tenantObject(tenantId) },
      ]);
      try {
        await deps.temporal.workflow.start(tenantOnboarding, {
          workflowId,
          taskQueue: TASK_QUEUES.sagas,
          args: [
            {
              tenantId,
              slug: body.slug,
              name: body.name,
              plan: body.plan,
              ownerUserId: input.principal.userId,
              retryHorizonMs: deps.retryHorizonMs,
            },
          ],
          memo: { requestHash: hash },
          // One saga per tenant, ever: a retry after it finished must not start a second one.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          staticSummary: `Onboard tenant ${body.slug} (${body.plan}) for ${input.principal.userId}`,
          staticDetails: `**Tenant** \`${tenantId}\` · slug \`${body.slug}\` · plan **${body.plan}** · owner \`${input.principal.userId}\`\n\nRequest \`${input.requestId}\``,
        });
        return created;
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        const { memo } = await handleOf(tenantId).describe();
        if (memo?.requestHash !== hash) {
          throw new HttpProblem(
            'IDEMPOTENCY_KEY_REUSED',
            'this Idempotency-Key already created a tenant with a different body; use a new key',
          );
        }
        return { ...created, replayed: true };
      }
    },

    getTenant: async (input) => {
      const { tenantId } = input.params;
      const tenant = await readTenant(deps.pool, tenantId);
      if (!tenant) throw notFound(tenantId);
      if (input.ifNoneMatch === `"${tenant.version}"`) return { status: 304, version: tenant.version };
      return { status: 200, body: tenant, version: tenant.version };
    },

    getOnboarding: async (input) => {
      const { tenantId } = input.params;
      try {
        const status = await handleOf(tenantId).query(onboardingStatusQuery);
        return { status: 200, body: { tenantId, workflowId: WORKFLOW_IDS.onboarding(tenantId), ...status } };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) throw notFound(tenantId);
        throw error;
      }
    },

    deleteTenant: async (input) => {
      const { tenantId } = input.params;
      const tenant = await loadTenant(deps.pool, tenantId);
      // Still onboarding (or not even reserved yet): cancel the saga, which compensates.
      if (!tenant || tenant.status === 'provisioning' || tenant.status === 'awaiting-approval') {
        try {
          await handleOf(tenantId).cancel();
        } catch (error) {
          if (error instanceof WorkflowNotFoundError) throw notFound(tenantId);
          throw error;
        }
        return { status: 202, body: { tenantId, workflowId: WORKFLOW_IDS.onboarding(tenantId), status: 'cancelling' } };
      }
      if (tenant.status !== 'active' && tenant.status !== 'offboarding')
        throw new HttpProblem(
          'TENANT_STATE_CONFLICT',
          `tenant ${tenantId} is ${tenant.status}; there is nothing to offboard`,
          { tenantStatus: tenant.status },
        );
      const workflowId = WORKFLOW_IDS.offboarding(tenantId);
      await deps.temporal.workflow.start(tenantOffboarding, {
        workflowId,
        taskQueue: TASK_QUEUES.sagas,
        args: [{ tenantId, slug: tenant.slug, requestedBy: input.principal.userId }],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        staticSummary: `Offboard tenant ${tenant.slug}, requested by ${input.principal.userId}`,
      });
      return { status: 202, body: { tenantId, workflowId, status: 'offboarding' } };
    },

    addMember: async (input) => {
      const { tenantId } = input.params;
      const { body } = input;
      const workflowId = WORKFLOW_IDS.membership(
        tenantId,
        hashOf(input.principal.userId, input.idempotencyKey).slice(0, 24),
      );
      const hash = requestHash(body);
      let replayed = false;
      try {
        await deps.temporal.workflow.start(tenantMembership, {
          workflowId,
          taskQueue: TASK_QUEUES.sagas,
          args: [{ tenantId, userId: body.userId, role: body.role, requestedBy: input.principal.userId }],
          memo: { requestHash: hash },
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          staticSummary: `Give ${body.userId} the ${body.role} role in tenant ${tenantId}, requested by ${input.principal.userId}`,
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        const { memo } = await deps.temporal.workflow.getHandle(workflowId).describe();
        if (memo?.requestHash !== hash)
          throw new HttpProblem(
            'IDEMPOTENCY_KEY_REUSED',
            'this Idempotency-Key already changed a membership with a different body; use a new key',
          );
        replayed = true;
      }
      return settleMembership(workflowId, body.userId, replayed);
    },

    removeMember: async (input) => {
      const { tenantId, userId } = input.params;
      const workflowId = WORKFLOW_IDS.membership(tenantId, `remove-${randomUUID()}`);
      await deps.temporal.workflow.start(tenantMembership, {
        workflowId,
        taskQueue: TASK_QUEUES.sagas,
        args: [{ tenantId, userId, role: null, requestedBy: input.principal.userId }],
        staticSummary: `Remove ${userId} from tenant ${tenantId}, requested by ${input.principal.userId}`,
      });
      return settleMembership(workflowId, userId, false);
    },

    approveOnboarding: async (input) => {
      const { tenantId } = input.params;
      try {
        await handleOf(tenantId).signal(approveSignal, { approvedBy: input.principal.userId });
      } catch (error) {
        if (error instanceof WorkflowNotFoundError)
          throw new HttpProblem('NOT_FOUND', `no onboarding running for tenant ${tenantId}`);
        throw error;
      }
      return {
        status: 202,
        body: { tenantId, workflowId: WORKFLOW_IDS.onboarding(tenantId), approvedBy: input.principal.userId },
      };
    },
  };
}
