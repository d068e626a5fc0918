// Every projection (read model) by name, with the tables it owns so a rebuild can fill fresh copies
// of them and swap them in, and its checkpoint. The projector applies them (one workflow
// `projection/<name>` each); the BFF and the CLI read them. Shared, so no deployable owns them.
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { OutboxEvent } from '../kernel/outbox.ts';
import { counterProjection } from './counters.read-model.ts';
import { tenantProjection } from './tenants.read-model.ts';

/**
 * A projection applies batches set-based: `rowOf` checks each event in TypeScript first (throws for
 * a poison event, null for an event it does not concern), then `apply` writes the checked rows of a
 * batch with one statement and returns how many changed the read model.
 */
export interface Projection<Row> {
  rowOf(event: OutboxEvent): Row | null;
  apply(db: CommonQueryMethods, rows: Row[]): Promise<number>;
}

export interface ProjectionDefinition {
  /** The live read-model tables this projection writes. */
  tables: string[];
  /** The projection writing into the tables named with `suffix` appended ('' = the live ones). */
  into(suffix: string): Projection<unknown>;
}

export const PROJECTION_DEFINITIONS: Record<string, ProjectionDefinition> = {
  counters: {
    tables: ['rm_counter_summary', 'rm_tenant_activity'],
    into: (suffix) =>
      counterProjection({ summary: `rm_counter_summary${suffix}`, activity: `rm_tenant_activity${suffix}` }),
  },
  tenants: {
    tables: ['rm_tenants'],
    into: (suffix) => tenantProjection(`rm_tenants${suffix}`),
  },
};

/** The live projections the projector workflows apply. */
export const PROJECTIONS: Record<string, Projection<unknown>> = Object.fromEntries(
  Object.entries(PROJECTION_DEFINITIONS).map(([name, definition]) => [name, definition.into('')]),
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
