// HTTP DTOs of tenant onboarding.
import { z } from 'zod';
import { resourceId } from './ids.ts';
import { MEMBER_ROLES } from './roles.ts';
import { tenantName, userId } from './text.ts';
import { SAGA_STATUSES } from './workflow-names.ts';

/** The aggregate type of tenant events in the outbox. */
export const TENANT_AGGREGATE = 'tenant';

/** The plans a tenant can be on; each sets quotas (services/tenant/tenant.domain.ts). */
export const PLANS = ['free', 'pro', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];
export const plan = z.enum(PLANS);

/** A tenant's lifecycle statuses (the transitions are in services/tenant/tenant.domain.ts). */
export const TENANT_STATUSES = [
  'provisioning',
  'awaiting-approval',
  'active',
  'compensated',
  'failed',
  'offboarding',
  'archived',
] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export const tenantSlug = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{1,62}$/,
    'must be 2-63 characters of lowercase letters, digits and "-", starting with a letter or digit',
  );

export const createTenantBody = z
  .object({
    slug: tenantSlug,
    name: tenantName,
    plan,
  })
  .strict();

export const tenantPath = z.object({ tenantId: resourceId });

export const tenantCreated = z.object({
  tenantId: resourceId,
  workflowId: z.string(),
  status: z.literal('onboarding'),
});

export const tenantView = z.object({
  tenantId: resourceId,
  slug: z.string(),
  name: z.string(),
  plan,
  status: z.enum(TENANT_STATUSES),
  members: z.number().int().min(0),
  version: z.number().int().min(1),
});

export const onboardingView = z.object({
  tenantId: resourceId,
  workflowId: z.string(),
  sagaStatus: z.enum(SAGA_STATUSES),
  currentStep: z.string().nullable(),
  steps: z.record(
    z.string(),
    z.enum(['pending', 'running', 'done', 'compensating', 'compensated', 'compensation-failed']),
  ),
  failure: z.string().nullable(),
});

export const approvalAccepted = z.object({ tenantId: resourceId, workflowId: z.string(), approvedBy: z.string() });

export const offboardingStarted = z.object({
  tenantId: resourceId,
  /** The offboarding saga, or, for a tenant still onboarding, the onboarding saga being cancelled. */
  workflowId: z.string(),
  /** `cancelling`: the onboarding was cancelled and compensates (undoes every step it did). */
  status: z.enum(['offboarding', 'cancelling']),
});

/** `POST /v1/tenants/{tenantId}/members`: the user (a token's `sub`) and the role to give them. */
export const addMemberBody = z.object({ userId, role: z.enum(MEMBER_ROLES) }).strict();

export const memberPath = z.object({ tenantId: resourceId, userId });

export const membershipView = z.object({
  tenantId: resourceId,
  userId: z.string(),
  /** The role the user holds now; null after a removal. */
  role: z.enum(MEMBER_ROLES).nullable(),
  /** The membership workflow that made the change (Temporal Web UI). */
  workflowId: z.string(),
});
