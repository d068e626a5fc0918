// Housekeeping activities run on a Temporal schedule by the saga worker.
import type { DatabasePool } from '../../services/kernel/database.ts';
import { pruneExpiredIdempotencyKeys } from '../../services/kernel/idempotency.ts';

export function createMaintenanceActivities(deps: { pool: DatabasePool }) {
  return {
    /** Deletes idempotency keys past their expiry (24 h); returns how many. */
    async pruneExpiredIdempotencyKeys(): Promise<number> {
      return pruneExpiredIdempotencyKeys(deps.pool);
    },
  };
}

export type MaintenanceActivities = ReturnType<typeof createMaintenanceActivities>;
