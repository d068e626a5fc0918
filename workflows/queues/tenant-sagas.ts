// The workflows task queue `tenant-sagas` runs (the saga worker): its bundle's entry.
export { smokeWorkflow } from '../smoke/smoke.workflow.ts';
export { pruneIdempotencyKeysWorkflow } from '../maintenance/prune-idempotency-keys.workflow.ts';
export { tenantOnboarding } from '../tenant-onboarding/tenant-onboarding.workflow.ts';
export { tenantOffboarding } from '../tenant-onboarding/tenant-offboarding.workflow.ts';
export { tenantMembership } from '../tenant-onboarding/tenant-membership.workflow.ts';
