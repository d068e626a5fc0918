// The workflow bundle's entry: every workflow a saga worker runs is exported here.
export { smokeWorkflow } from './smoke/smoke.workflow.ts';
export { pruneIdempotencyKeysWorkflow } from './maintenance/prune-idempotency-keys.workflow.ts';
