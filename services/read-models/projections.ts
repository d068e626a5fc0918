// Every projection (read model) by name, with the tables it owns so a rebuild can fill fresh copies
// of them and swap them in, and its checkpoint. The projector applies them (one workflow
// `projection/<name>` each); the BFF and the CLI read them. Shared, so no deployable owns them.
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { EventRecord } from '../../contracts/envelope.ts';
import { counterProjection } from './counters.read-model.ts';
import { tenantProjection } from './tenants.read-model.ts';

/**
 * A projection applies batches set-based: `rowOf` checks each event in TypeScript first (throws for
 * a poison event, null for an event it does not concern), then `apply` writes the checked rows of a
 * batch with one statement and returns how many changed the read model. `versionOf` and
 * `currentVersions` let the projector check that each aggregate's events follow its read-model
 * version one by one (a jump is parked, not applied).
 */
export interface Projection<Row> {
  rowOf(event: EventRecord): Row | null;
  apply(db: CommonQueryMethods, rows: Row[]): Promise<number>;
  /** The aggregate a row belongs to (a key unique within the projection) and the version it carries. */
  versionOf(row: Row): { aggregate: string; version: number };
  /** The version each of `aggregates` has in the read model; absent ones are at 0. */
  currentVersions(db: CommonQueryMethods, aggregates: string[]): Promise<Map<string, number>>;
}

/**
 * Splits checked rows by their aggregate's read-model version: the next ones in order, duplicates
 * (at or below it: already applied) and jumps (past the next version: forged or misrouted, never
 * applied). Used by the projector and by the dead-letter redrive.
 */
export async function followVersions<Item extends { row: unknown }>(
  db: CommonQueryMethods,
  projection: Projection<unknown>,
  checked: Item[],
): Promise<{ next: Item[]; duplicates: number; jumps: { item: Item; error: Error }[] }> {
  const versions = checked.map((c) => projection.versionOf(c.row));
  const current = await projection.currentVersions(db, [...new Set(versions.map((v) => v.aggregate))]);
  const next: Item[] = [];
  const jumps: { item: Item; error: Error }[] = [];
  let duplicates = 0;
  checked.forEach((item, i) => {
    const { aggregate, version } = versions[i]!;
    const at = current.get(aggregate) ?? 0;
    if (version <= at) duplicates++;
    else if (version === at + 1) {
      next.push(item);
      current.set(aggregate, version);
    } else {
      jumps.push({
        item,
        error: new Error(`version ${version} does not follow version ${at} of ${aggregate} in the read model`),
      });
    }
  });
  return { next, duplicates, jumps };
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
