import './node20-compat.ts';
import { createPool, SchemaValidationError, type DatabasePool, type Interceptor, type QueryResultRow } from 'slonik';

export type { DatabasePool };

/**
 * Validates every row of a `sql.type(schema)` query against its schema (zod implements Standard
 * Schema), so a query's declared row type is checked at run time, not only assumed.
 */
const resultParser: Interceptor = {
  name: 'result-parser',
  transformRowAsync: async (context, query, row) => {
    const parser = context.resultParser;
    if (!parser) return row;
    const result = await parser['~standard'].validate(row);
    if (result.issues) throw new SchemaValidationError(query, row, result.issues);
    return result.value as QueryResultRow;
  },
};

/** A slonik pool whose typed queries are validated. One per process; close it with `pool.end()`. */
export async function createDatabasePool(url: string, options: { maximumPoolSize: number }): Promise<DatabasePool> {
  return createPool(url, {
    interceptors: [resultParser],
    maximumPoolSize: options.maximumPoolSize,
    connectionTimeout: 5_000,
    statementTimeout: 60_000,
  });
}
