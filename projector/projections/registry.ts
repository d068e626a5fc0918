// Every projection the projector runs, by name (one workflow `projection/<name>` each), with the
// tables it owns so a rebuild can fill fresh copies of them and swap them in.
import type { ApplyEvent } from '../projector.activities.ts';
import { applyCounterEvent } from './counters.projection.ts';
import { applyTenantEvent } from './tenants.projection.ts';

export interface ProjectionDefinition {
  /** The live read-model tables this projection writes. */
  tables: string[];
  /** Applies one event into the tables named with `suffix` appended ('' = the live ones). */
  applyInto(suffix: string): ApplyEvent;
}

export const PROJECTION_DEFINITIONS: Record<string, ProjectionDefinition> = {
  counters: {
    tables: ['rm_counter_summary', 'rm_tenant_activity'],
    applyInto: (suffix) => (db, event) =>
      applyCounterEvent(db, event, { summary: `rm_counter_summary${suffix}`, activity: `rm_tenant_activity${suffix}` }),
  },
  tenants: {
    tables: ['rm_tenants'],
    applyInto: (suffix) => (db, event) => applyTenantEvent(db, event, `rm_tenants${suffix}`),
  },
};

/** The live appliers the projector workflows use. */
export const PROJECTIONS: Record<string, ApplyEvent> = Object.fromEntries(
  Object.entries(PROJECTION_DEFINITIONS).map(([name, definition]) => [name, definition.applyInto('')]),
);

export const PROJECTION_NAMES = Object.keys(PROJECTION_DEFINITIONS);
