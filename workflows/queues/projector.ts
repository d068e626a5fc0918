// The workflows task queue `projector` runs (the projector): its bundle's entry.
export { projection } from '../projections/projection.workflow.ts';
export { rebuildProjection } from '../projections/rebuild-projection.workflow.ts';
