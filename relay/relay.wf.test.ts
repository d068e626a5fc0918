// The relay's checkpoint never passes an unacked event: with publishing failing (some events acked,
// others not), the checkpoint stays put; once publishing works, every event arrives exactly once and
// the stream holds them in outbox order (a failed publish stops the rest of its batch from landing).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { after, before, describe, it } from 'mocha';
import { sql } from 'slonik';
import { z } from 'zod';
import { connectNats, type NatsConnection } from '../runtime/connections.ts';
import { createCounterCommands } from '../services/counter/counter.commands.ts';
import { createDatabasePool, type DatabasePool } from '../services/kernel/database.ts';
import { createMigratedDatabase, type FreshDatabase } from '../test/support/database.ts';
import { testStack } from '../test/support/env.ts';
import { storedMessageIds, until } from '../test/support/pipeline.ts';
import { startTestWorker, type RunningTestWorker } from '../test/support/temporal-worker.ts';
import { outboxRelay, relayProgressQuery } from '../workflows/outbox-relay/outbox-relay.workflow.ts';
import { ensureEventsStream } from '../runtime/events-stream.ts';
import { createPgListener } from '../runtime/pg-listener.ts';
import { takeLease } from '../services/kernel/lease.ts';
import { createRelayActivities, jetStreamPublish, type Publish } from './relay.activities.ts';
import { pino } from 'pino';
import { activeTenantRows } from '../test/support/tenants.ts';

describe('relay workflow with a failing publisher', function () {
  this.timeout(180_000);
  let db: FreshDatabase;
  let pool: DatabasePool;
  let nats: NatsConnection;
  let jsm: JetStreamManager;
  let worker: RunningTestWorker;
  const stream = { name: `RELAYT_${randomUUID().slice(0, 8)}`, subjectPrefix: `rt${randomUUID().slice(0, 8)}` };
  let failing = true;
  let attempts = 0;

  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'relay');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 4 });
    await activeTenantRows(pool, 'relay');
    await activeTenantRows(pool, 'relay-can');
    nats = await connectNats(testStack().NATS_URL, 'relay-test');
    jsm = await jetstreamManager(nats);
    await ensureEventsStream(jsm, stream);
    const real = jetStreamPublish(jetstream(nats));
    let call = 0;
    // While `failing`, every other publish is refused: part of each batch is acked, part is not.
    const flaky: Publish = async (subject, event, after) => {
      attempts++;
      if (failing && call++ % 2 === 1) throw new Error('injected publish failure');
      return real(subject, event, after);
    };
    const listener = createPgListener(db.url, 'event_outbox', pino({ level: 'silent' }));
    worker = await startTestWorker(createRelayActivities({ pool, jsm, stream, publish: flaky, listener }), 'relay');
  });
  after(async () => {
    await worker?.stop();
    await jsm?.streams.delete(stream.name).catch(() => undefined);
    await nats?.drain();
    await pool?.end();
    await db?.drop();
  });

  it('holds the checkpoint while publishes fail, then delivers every event exactly once', async () => {
    const commands = createCounterCommands({ pool });
    for (let i = 0; i < 30; i++) {
      await commands.execute({
        tenantId: 'relay',
        counterId: `c${i % 3}`,
        command: { type: 'increment', by: 1 },
        metadata: {},
      });
    }
    const handle = await worker.client.workflow.start(outboxRelay, {
      taskQueue: worker.taskQueue,
      workflowId: `outbox-relay-test/${randomUUID()}`,
      args: [{ batchSize: 10, loopMs: 1_000 }],
    });
    await until('several failed publish attempts', async () => attempts > 8, 60_000);
    const checkpoint = await pool.maybeOne(sql.unsafe`select * from outbox_checkpoints where reader = 'relay'`);
    assert.equal(checkpoint, null, 'no checkpoint while any event of the batch is unacked');
    assert.ok(
      (await jsm.streams.info(stream.name)).state.messages > 0,
      'some events of the batch did reach the broker',
    );

    failing = false;
    await until('relay caught up', async () => (await handle.query(relayProgressQuery)).published >= 30, 90_000);
    const ids = await pool.anyFirst(
      sql.type(z.object({ id: z.string() }))`select event_id::text as id from event_outbox order by tx_id, position`,
    );
    assert.deepEqual(await storedMessageIds(jsm, stream.name), ids, 'each event stored once, in outbox order');
    await handle.terminate('test done');
  });

  it('continues as new after its loops per run, carrying its totals into the next run', async () => {
    // The previous test's loop may outlive its terminated workflow by up to its loopMs: fence it off
    // (a takeover waits for its batch in flight), so every event below is this workflow's to publish.
    await takeLease(pool, 'relay', 'the continue-as-new test');
    const commands = createCounterCommands({ pool });
    for (let i = 0; i < 20; i++) {
      await commands.execute({
        tenantId: 'relay-can',
        counterId: 'c',
        command: { type: 'increment', by: 1 },
        metadata: {},
      });
    }
    const handle = await worker.client.workflow.start(outboxRelay, {
      taskQueue: worker.taskQueue,
      workflowId: `outbox-relay-test/${randomUUID()}`,
      args: [{ batchSize: 5, loopMs: 300, loopsPerRun: 3 }],
    });
    await until('a second run', async () => (await handle.describe()).runId !== handle.firstExecutionRunId, 60_000);
    await until('the second run relayed', async () => (await handle.query(relayProgressQuery)).published >= 20, 60_000);
    const firstRun = worker.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
    const history = await firstRun.fetchHistory();
    assert.ok(
      history.events?.some((e) => e.workflowExecutionContinuedAsNewEventAttributes),
      'the first run ended in continue-as-new',
    );
    assert.equal((await firstRun.describe()).status.name, 'CONTINUED_AS_NEW');
    const endOfFirstRun = await firstRun.query(relayProgressQuery);
    assert.ok(endOfFirstRun.published > 0, 'the first run published some of the events waiting at its start');
    const now = await handle.query(relayProgressQuery);
    assert.notEqual((await handle.describe()).runId, handle.firstExecutionRunId);
    assert.ok(
      now.batches >= endOfFirstRun.batches && now.published >= endOfFirstRun.published && now.published >= 20,
      'totals carried across runs',
    );
    await handle.terminate('test done');
  });
});
