// Names that workflows, workers, the BFF, the CLI and the Web UI share: task queues, workflow ids,
// the typed search attributes and the saga step names. Defined once here and imported everywhere
// (workflow code included: this file has no I/O).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The task queue each worker deployable polls. */
export const TASK_QUEUES = {
  /** Onboarding and offboarding sagas, the idempotency-key pruning schedule (saga-worker). */
  sagas: 'tenant-sagas',
  /** The outbox relay workflow (relay). */
  relay: 'outbox-relay',
  /** One workflow per projection and the rebuilds (projector). */
  projector: 'projector',
} as const;
export type TaskQueue = (typeof TASK_QUEUES)[keyof typeof TASK_QUEUES];

/** Workflow ids are deterministic, so starting a workflow twice finds the running one. */
export const WORKFLOW_IDS = {
  onboarding: (tenantId: string) => `tenant-onboarding/${tenantId}`,
  offboarding: (tenantId: string) => `tenant-offboarding/${tenantId}`,
  /** One membership change; `change` is derived from the request (its Idempotency-Key, or the removed user). */
  membership: (tenantId: string, change: string) => `tenant-membership/${tenantId}/${change}`,
  relay: 'outbox-relay',
  projection: (projection: string) => `projection/${projection}`,
  rebuild: (projection: string) => `rebuild/${projection}`,
} as const;

// The typed search attributes the sagas upsert (registered on the server by `npm run up`), so a
// person finds a saga in the Web UI or with `temporal workflow list --query "TenantId='…'"`.
export const TENANT_ID = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
export const TENANT_SLUG = defineSearchAttributeKey('TenantSlug', SearchAttributeType.KEYWORD);
export const SAGA_STATUS = defineSearchAttributeKey('SagaStatus', SearchAttributeType.KEYWORD);
export const SAGA_STEP = defineSearchAttributeKey('SagaStep', SearchAttributeType.KEYWORD);
/** Every custom search attribute, for registration on a server. */
export const SEARCH_ATTRIBUTES = [TENANT_ID, TENANT_SLUG, SAGA_STATUS, SAGA_STEP] as const;

export const SAGA_STATUSES = [
  'running',
  'waiting-approval',
  'compensating',
  'completed',
  'compensated',
  'failed',
] as const;
export type SagaStatus = (typeof SAGA_STATUSES)[number];

/**
 * The onboarding saga's forward steps, in order. A step's name is the one the workflow reports
 * (SagaStep, the status query), the activity's fault point and the name `npm run fault` arms.
 */
export const ONBOARDING_STEPS = [
  'reserve',
  'create-schema',
  'create-nats-resources',
  'add-owner',
  'grant-owner',
  'apply-quotas',
  'await-approval',
  'ensure-provisioned',
  'activate',
  'send-welcome',
] as const;
/** The undo step of each compensable onboarding step. */
export const COMPENSATION_STEPS = {
  reserve: 'undo-reserve',
  'create-schema': 'undo-create-schema',
  'create-nats-resources': 'undo-create-nats-resources',
  'add-owner': 'undo-add-owner',
  'grant-owner': 'undo-grant-owner',
  'apply-quotas': 'undo-apply-quotas',
} as const;
/** The offboarding saga's steps, in order (forward only). */
export const OFFBOARDING_STEPS = [
  'deactivate',
  'remove-nats-resources',
  'drop-schema',
  'revert-quotas',
  'remove-owner',
  'revoke-access',
  'archive',
] as const;

export type OnboardingStep = (typeof ONBOARDING_STEPS)[number];
export type CompensationStep = (typeof COMPENSATION_STEPS)[keyof typeof COMPENSATION_STEPS];
export type OffboardingStep = (typeof OFFBOARDING_STEPS)[number];
export type SagaStep = OnboardingStep | CompensationStep | OffboardingStep;
/** Every step name of both sagas: what a fault can be armed for. */
export const SAGA_STEPS: readonly SagaStep[] = [
  ...ONBOARDING_STEPS,
  ...Object.values(COMPENSATION_STEPS),
  ...OFFBOARDING_STEPS,
];
