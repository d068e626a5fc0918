// Activities of the projector worker (task queue `projector`).
import type { DatabasePool } from '../services/kernel/database.ts';
import { readOutboxHead } from '../services/kernel/outbox.ts';

export function createProjectorActivities(deps: { pool: DatabasePool }) {
  return {
    /** Where the outbox ends; projection lag is measured against it. */
    async projectorOutboxHead() {
      return readOutboxHead(deps.pool);
    },
  };
}
