// Workflow bundle entry for the replay suite's negative test only; never registered on a worker.
export { tenantOnboarding } from './reordered-onboarding.workflow.ts';
