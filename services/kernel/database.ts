import './node20-compat.ts';
import { createPool, SchemaValidationError, type DatabasePool, type Interceptor, type QueryResultRow } from 'slonik';

export type { DatabasePool };

/**
 * Validates every row of a `sql.type(schema)` query against its schema (zod implements Standard
 * Schema), so a query's declared row type is checked at run time, not only assumed. Synchronously:
 * row schemas have no async refinements, and an await per row costs on the command path.
 */
const resultParser: Interceptor = {
  name: 'result-parser',
  transformRow: (context, query, row) => {
    const parser = context.resultParser;
    if (!parser) return row;
    const result = parser['~standard'].validate(row);
    if (result instanceof Promise)
      throw new TypeError('row schemas must validate synchronously (no async refinements)');
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
    // Every statement keeps its state transaction-local (advisory locks are xact locks, no SET), so
    // a connection needs no `DISCARD ALL` round trip each time it goes back to the pool.
    resetConnection: async () => {},
    // Each query a span (`slonik.executeQuery`, its SQL as an attribute) under the caller's active
    // span, through slonik's own OpenTelemetry instrumentation; a no-op while no SDK is registered.
    tracing: true,
  });
}
