// Activities of the outbox relay worker (task queue `outbox-relay`).
import type { DatabasePool } from '../services/kernel/database.ts';
import { readOutboxHead } from '../services/kernel/outbox.ts';

export function createRelayActivities(deps: { pool: DatabasePool }) {
  return {
    /** Where the outbox ends; the relay's lag is measured against it. */
    async outboxHead() {
      return readOutboxHead(deps.pool);
    },
  };
}
