// The services' transaction helper. slonik destroys a pooled connection whenever the handler of
// `pool.transaction` throws; for expected outcomes (a version conflict, a business rule) that would
// mean a reconnect — and a SCRAM handshake — per refused request. Domain errors are therefore caught
// inside the connection's handler after the rollback and rethrown outside it.
import type { DatabaseTransactionConnection } from 'slonik';
import type { DatabasePool } from './database.ts';
import { DomainError } from './errors.ts';

export async function inTransaction<T>(
  pool: DatabasePool,
  work: (tx: DatabaseTransactionConnection) => Promise<T>,
): Promise<T> {
  const outcome = await pool.connect(async (connection): Promise<{ value: T } | { refused: DomainError }> => {
    try {
      return { value: await connection.transaction(work) };
    } catch (error) {
      if (error instanceof DomainError) return { refused: error };
      throw error;
    }
  });
  if ('refused' in outcome) throw outcome.refused;
  return outcome.value;
}
