// Compare-and-set on an aggregate row's `version` (docs/architecture.md, "CAS"). Version 0 means "no row yet":
// the first write inserts version 1; every later write is UPDATE … WHERE version = expected. The
// command kernel runs the write in one statement with the command's events (services/kernel/command.ts).
import { sql, type CommonQueryMethods, type FragmentSqlToken, type ValueExpression } from 'slonik';
import { z } from 'zod';

export interface CasWrite {
  table: string;
  /** The aggregate's key columns, e.g. { tenant_id, counter_id }. */
  key: Record<string, string>;
  expectedVersion: number;
  /** The new state's columns (not the version: that is always expected + 1). */
  values: Record<string, ValueExpression>;
}

const versionRow = z.object({ version: z.coerce.number().int() });

const keyMatch = (write: CasWrite) =>
  sql.join(
    Object.keys(write.key).map((column) => sql.fragment`${sql.identifier([column])} = ${write.key[column]!}`),
    sql.fragment` and `,
  );

/** The version the row has now (0: no row), for the conflict a failed write reports. */
export async function currentVersion(db: CommonQueryMethods, write: CasWrite): Promise<number> {
  const current = await db.maybeOne(
    sql.type(versionRow)`select version from ${sql.identifier([write.table])} where ${keyMatch(write)}`,
  );
  return current?.version ?? 0;
}

/** The write as one statement `returning version`; it returns no row when the version moved. */
export function casStatement(write: CasWrite): FragmentSqlToken {
  const table = sql.identifier([write.table]);
  const keyColumns = Object.keys(write.key);
  const valueColumns = Object.keys(write.values);
  const next = write.expectedVersion + 1;
  return write.expectedVersion === 0
    ? sql.fragment`
          insert into ${table} (${sql.join(
            [...keyColumns, ...valueColumns, 'version'].map((c) => sql.identifier([c])),
            sql.fragment`, `,
          )})
          values (${sql.join([...keyColumns.map((c) => write.key[c]!), ...valueColumns.map((c) => write.values[c]!), next], sql.fragment`, `)})
          on conflict do nothing
          returning version`
    : sql.fragment`
          update ${table}
          set ${sql.join(
            valueColumns.map((c) => sql.fragment`${sql.identifier([c])} = ${write.values[c]!}`),
            sql.fragment`, `,
          )},
              version = ${next}
          where ${keyMatch(write)} and version = ${write.expectedVersion}
          returning version`;
}
