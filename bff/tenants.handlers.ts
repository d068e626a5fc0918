// Tenant routes: creation starts the onboarding saga (deterministic ids, so a retry is the same
// saga), reads come from the tenants read model, status and approval talk to the workflow.
import { createHash } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import type { z } from 'zod';
import type { createTenantBody } from '../contracts/tenant.contracts.ts';
import { TASK_QUEUES, WORKFLOW_IDS } from '../contracts/workflow-names.ts';
import { readTenant } from '../services/read-models/tenants.read-model.ts';
import type { DatabasePool } from '../services/kernel/database.ts';
import { requestHash } from '../services/kernel/idempotency.ts';
import { slugTakenByOther } from '../services/tenant/tenant.commands.ts';
import { tenantOffboarding } from '../workflows/tenant-onboarding/tenant-offboarding.workflow.ts';
import {
  approveSignal,
  onboardingStatusQuery,
  tenantOnboarding,
} from '../workflows/tenant-onboarding/tenant-onboarding.workflow.ts';
import type { RouteHandler } from './api.router.ts';
import { HttpProblem } from './problem.ts';

type CreateTenantBody = z.infer<typeof createTenantBody>;

/** The tenant id a user's Idempotency-Key stands for: the same key always means the same tenant. */
export function tenantIdFor(userId: string, idempotencyKey: string): string {
  return `t${createHash('sha256').update(`${userId}\n${idempotencyKey}`).digest('hex').slice(0, 20)}`;
}

export function tenantHandlers(deps: {
  pool: DatabasePool;
  temporal: Client;
  /** OnboardingInput.retryHorizonMs of every saga started here. */
  retryHorizonMs: number;
}): Record<string, RouteHandler> {
  const handleOf = (tenantId: string) => deps.temporal.workflow.getHandle(WORKFLOW_IDS.onboarding(tenantId));
  const notFound = (tenantId: string) => new HttpProblem('NOT_FOUND', `no tenant ${tenantId}`);

  return {
    createTenant: async (input) => {
      const body = input.body as CreateTenantBody;
      const tenantId = tenantIdFor(input.principal.userId, input.idempotencyKey!);
      const workflowId = WORKFLOW_IDS.onboarding(tenantId);
      const hash = requestHash(body);
      const created = {
        status: 202 as const,
        body: { tenantId, workflowId, status: 'onboarding' },
        headers: { Location: `/v1/tenants/${tenantId}/onboarding` },
      };
      if (await slugTakenByOther(deps.pool, body.slug, tenantId))
        throw new HttpProblem('SLUG_TAKEN', `slug "${body.slug}" belongs to another tenant; choose another`);
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
        return { ...created, headers: { ...created.headers, 'Idempotent-Replayed': 'true' } };
      }
    },

    getTenant: async (input) => {
      const tenant = await readTenant(deps.pool, input.params.tenantId!);
      if (!tenant) throw notFound(input.params.tenantId!);
      if (input.ifNoneMatch === `"${tenant.version}"`) return { status: 304, version: tenant.version };
      return { status: 200, body: tenant, version: tenant.version };
    },

    getOnboarding: async (input) => {
      const tenantId = input.params.tenantId!;
      try {
        const status = await handleOf(tenantId).query(onboardingStatusQuery);
        return { status: 200, body: { tenantId, workflowId: WORKFLOW_IDS.onboarding(tenantId), ...status } };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) throw notFound(tenantId);
        throw error;
      }
    },

    deleteTenant: async (input) => {
      const tenantId = input.params.tenantId!;
      const tenant = await readTenant(deps.pool, tenantId);
      if (!tenant) throw notFound(tenantId);
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

    approveOnboarding: async (input) => {
      const tenantId = input.params.tenantId!;
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
