// The workflow bundle's entry: every workflow the workers run is exported here.
export { smokeWorkflow } from './smoke/smoke.workflow.ts';
export { pruneIdempotencyKeysWorkflow } from './maintenance/prune-idempotency-keys.workflow.ts';
export { outboxRelay } from './outbox-relay/outbox-relay.workflow.ts';
export { projection } from './projections/projection.workflow.ts';
export { rebuildProjection } from './projections/rebuild-projection.workflow.ts';
export { tenantOnboarding } from './tenant-onboarding/tenant-onboarding.workflow.ts';
export { tenantOffboarding } from './tenant-onboarding/tenant-offboarding.workflow.ts';
