// Every projection (read model) by name, with the tables it owns so a rebuild can fill fresh copies
// of them and swap them in, and its checkpoint. The projector applies them (one workflow
// `projection/<name>` each); the BFF and the CLI read them. Shared, so no deployable owns them.
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { OutboxEvent } from '../kernel/outbox.ts';
import { applyCounterEvent } from './counters.read-model.ts';
import { applyTenantEvent } from './tenants.read-model.ts';

/** What applying one event did: changed rows, found them already at or past it, or did not concern it. */
export type ApplyOutcome = 'applied' | 'unchanged' | 'ignored';

/** Applies one event to a projection's tables; throws on an event that breaks its contract (a poison event). */
export type ApplyEvent = (db: CommonQueryMethods, event: OutboxEvent) => Promise<ApplyOutcome>;

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

/** The Postgres channel a projection NOTIFYs on when a batch commits (its payload: the projection's name). */
export const PROJECTION_APPLIED_CHANNEL = 'projection_applied';

const checkpointRow = z.object({ sequence: z.coerce.number() });

/** The last JetStream stream sequence a projection committed (0 before its first batch). */
export async function loadProjectionCheckpoint(db: CommonQueryMethods, projection: string): Promise<number> {
  const row = await db.maybeOne(sql.type(checkpointRow)`
    select stream_sequence as sequence from projection_checkpoints where projection = ${projection}`);
  return row?.sequence ?? 0;
}
