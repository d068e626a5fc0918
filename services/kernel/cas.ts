// Compare-and-set on an aggregate row's `version` (docs/architecture.md, "CAS"). Version 0 means "no row yet":
// the first write inserts version 1; every later write is UPDATE … WHERE version = expected.
import { sql, type CommonQueryMethods, type ValueExpression } from 'slonik';
import { z } from 'zod';
import { versionConflict } from './errors.ts';

export interface CasWrite {
  table: string;
  /** The aggregate's key columns, e.g. { tenant_id, counter_id }. */
  key: Record<string, string>;
  expectedVersion: number;
  /** The new state's columns (not the version: that is always expected + 1). */
  values: Record<string, ValueExpression>;
}

const versionRow = z.object({ version: z.coerce.number().int() });

/** Writes the row at version expected + 1, or throws VERSION_CONFLICT carrying the current version. */
export async function compareAndSet(db: CommonQueryMethods, write: CasWrite): Promise<number> {
  const table = sql.identifier([write.table]);
  const keyColumns = Object.keys(write.key);
  const valueColumns = Object.keys(write.values);
  const where = sql.join(
    keyColumns.map((column) => sql.fragment`${sql.identifier([column])} = ${write.key[column]!}`),
    sql.fragment` and `,
  );
  const next = write.expectedVersion + 1;
  const written =
    write.expectedVersion === 0
      ? await db.maybeOne(sql.type(versionRow)`
          insert into ${table} (${sql.join(
            [...keyColumns, ...valueColumns, 'version'].map((c) => sql.identifier([c])),
            sql.fragment`, `,
          )})
          values (${sql.join([...keyColumns.map((c) => write.key[c]!), ...valueColumns.map((c) => write.values[c]!), next], sql.fragment`, `)})
          on conflict do nothing
          returning version`)
      : await db.maybeOne(sql.type(versionRow)`
          update ${table}
          set ${sql.join(
            valueColumns.map((c) => sql.fragment`${sql.identifier([c])} = ${write.values[c]!}`),
            sql.fragment`, `,
          )},
              version = ${next}
          where ${where} and version = ${write.expectedVersion}
          returning version`);
  if (written) return written.version;
  const current = await db.maybeOne(sql.type(versionRow)`select version from ${table} where ${where}`);
  throw versionConflict(write.expectedVersion, current?.version ?? 0);
}
