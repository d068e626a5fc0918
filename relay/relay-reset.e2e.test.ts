// `temporal workflow reset --type LastContinuedAsNew` on the running relay, mid-load: the relay's
// checkpoint lives in Postgres and JetStream deduplicates by event id, so re-running the current
// run from its start loses nothing and publishes nothing twice; the projector applies each once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { sql } from 'slonik';
import { z } from 'zod';
import { connectTemporalClient } from '../runtime/connections.ts';
import { createCounterCommands } from '../services/counter/counter.commands.ts';
import { createDatabasePool, type DatabasePool } from '../services/kernel/database.ts';
import { createMigratedDatabase, type FreshDatabase } from '../test/support/database.ts';
import { testStack } from '../test/support/env.ts';
import { converged, createPipeline, storedMessageIds, until, type Pipeline } from '../test/support/pipeline.ts';
import { temporalCli } from '../test/support/temporal-cli.ts';
import { WORKFLOW_IDS } from '../contracts/workflow-names.ts';
import { activeTenantRows } from '../test/support/tenants.ts';

describe('temporal workflow reset of the outbox relay (LastContinuedAsNew)', function () {
  this.timeout(300_000);
  let db: FreshDatabase;
  let pool: DatabasePool;
  let pipeline: Pipeline;

  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'relay_reset');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 8 });
    await activeTenantRows(pool, 'reset0');
    await activeTenantRows(pool, 'reset1');
    await activeTenantRows(pool, 'reset2');
    pipeline = await createPipeline(db.url, {
      RELAY_BATCH_SIZE: '50',
      RELAY_LOOPS_PER_RUN: '4',
      RELAY_LOOP_SECONDS: '1',
    });
    await pipeline.start();
  });
  after(async () => {
    await pipeline?.stop();
    await pool?.end();
    await db?.drop();
  });

  it('mid-load, twice: no event lost, none published or applied twice', async () => {
    const { client, connection } = await connectTemporalClient(
      testStack().TEMPORAL_ADDRESS,
      testStack().TEMPORAL_NAMESPACE,
    );
    try {
      const relay = client.workflow.getHandle(WORKFLOW_IDS.relay);
      const commands = createCounterCommands({ pool });
      let written = 0;
      const writer = async (w: number) => {
        while (written < 4_000) {
          written++;
          await commands.execute({
            tenantId: `reset${w % 3}`,
            counterId: `k${Math.floor(Math.random() * 40)}`,
            command: { type: 'increment', by: 1 },
            metadata: { actor: 'reset-test' },
          });
        }
      };
      const load = Promise.all(Array.from({ length: 6 }, (_, w) => writer(w)));

      for (let reset = 0; reset < 2; reset++) {
        const before = (await relay.describe()).runId;
        await until('the relay to continue as new', async () => (await relay.describe()).runId !== before, 60_000);
        const current = (await relay.describe()).runId;
        temporalCli([
          'workflow',
          'reset',
          '--workflow-id',
          WORKFLOW_IDS.relay,
          '--type',
          'LastContinuedAsNew',
          '--reason',
          'reset test',
        ]);
        const replaced = await client.workflow.getHandle(WORKFLOW_IDS.relay, current).describe();
        assert.equal(replaced.status.name, 'TERMINATED', 'the reset run is terminated, a new one takes over');
      }
      assert.ok(written < 4_000, 'both resets happened while the load was running');
      await load;

      await converged(pool, 180_000);
      const outboxIds = await pool.anyFirst(
        sql.type(z.object({ id: z.string() }))`select event_id::text as id from event_outbox order by 1`,
      );
      assert.equal(outboxIds.length, 4_000, 'one event per command');
      const stored = await storedMessageIds(pipeline.jsm, pipeline.stream);
      assert.equal(stored.length, new Set(stored).size, 'JetStream holds each event once');
      assert.deepEqual([...stored].sort(), [...outboxIds].sort(), 'every outbox event reached JetStream');
    } finally {
      await connection.close();
    }
  });
});
