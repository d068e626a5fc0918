import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { after, before, describe, it } from 'mocha';
import { sql } from 'slonik';
import { createMaintenanceActivities } from '../../activities/maintenance/maintenance.activities.ts';
import { createDatabasePool, type DatabasePool } from '../../services/kernel/database.ts';
import { createMigratedDatabase, type FreshDatabase } from '../../test/support/database.ts';
import { testStack } from '../../test/support/env.ts';
import { pruneIdempotencyKeysWorkflow } from './prune-idempotency-keys.workflow.ts';

describe('pruneIdempotencyKeysWorkflow on the dev server with real activities', function () {
  this.timeout(120_000);
  let db: FreshDatabase;
  let pool: DatabasePool;
  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'prune');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 2 });
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('prunes the expired keys and returns their count', async () => {
    await pool.query(sql.unsafe`
      insert into idempotency_keys (tenant_id, caller, operation, key, request_hash, response, expires_at)
      values ('t', 'u', 'op', 'old', 'h', '{}', now() - interval '1 day'), ('t', 'u', 'op', 'new', 'h', '{}', now() + interval '1 day')`);
    const { TEMPORAL_ADDRESS } = testStack();
    const taskQueue = `prune-${randomUUID()}`;
    const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
    const workerConnection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
    try {
      const worker = await Worker.create({
        connection: workerConnection,
        taskQueue,
        workflowsPath: fileURLToPath(new URL('../index.ts', import.meta.url)),
        activities: createMaintenanceActivities({ pool }),
      });
      const pruned = await worker.runUntil(
        new Client({ connection }).workflow.execute(pruneIdempotencyKeysWorkflow, {
          taskQueue,
          workflowId: `prune/${randomUUID()}`,
        }),
      );
      assert.equal(pruned, 1);
    } finally {
      await connection.close();
      await workerConnection.close();
    }
  });
});
