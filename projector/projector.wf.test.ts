// A poison event does not stop a projection: after bounded attempts it is parked in the dead-letter
// table, the events after it are still projected, and a re-drive applies it once the cause is fixed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { after, before, describe, it } from 'mocha';
import { connectNats, type NatsConnection } from '../runtime/connections.ts';
import { createDatabasePool, type DatabasePool } from '../services/kernel/database.ts';
import type { OutboxEvent } from '../services/kernel/outbox.ts';
import { createMigratedDatabase, type FreshDatabase } from '../test/support/database.ts';
import { testStack } from '../test/support/env.ts';
import { until } from '../test/support/pipeline.ts';
import { startTestWorker, type RunningTestWorker } from '../test/support/temporal-worker.ts';
import { projection, projectionProgressQuery } from '../workflows/projections/projection.workflow.ts';
import { ensureEventsStream, subjectOf } from '../runtime/events-stream.ts';
import { listDeadLetters, redriveDeadLetters } from '../services/read-models/dead-letters.ts';
import { createProjectorActivities, MAX_ATTEMPTS } from './projector.activities.ts';
import type { Projection } from '../services/read-models/projections.ts';
import {
  applyCounterRows,
  counterProjection,
  readCounterSummary,
  type CounterRow,
} from '../services/read-models/counters.read-model.ts';
import { toEnvelope } from '../contracts/envelope.ts';

let position = 0;
function counterEvent(counterId: string, version: number, payload: Record<string, unknown>): OutboxEvent {
  position++;
  return {
    position: String(position),
    txId: String(1000 + position),
    eventId: randomUUID(),
    tenantId: 'poison',
    aggregateType: 'counter',
    aggregateId: counterId,
    aggregateVersion: version,
    eventType: 'CounterIncremented',
    schemaVersion: 1,
    payload,
    metadata: {},
    occurredAt: Date.now(),
  };
}

describe('projection workflow with poison events', function () {
  this.timeout(180_000);
  let db: FreshDatabase;
  let pool: DatabasePool;
  let nats: NatsConnection;
  let jsm: JetStreamManager;
  let worker: RunningTestWorker;
  const stream = { name: `PROJT_${randomUUID().slice(0, 8)}`, subjectPrefix: `pt${randomUUID().slice(0, 8)}` };
  let bugInC2 = true;
  const counters: Projection<CounterRow> = {
    ...counterProjection(),
    apply: async (db, rows) => {
      if (bugInC2 && rows.some((row) => row.counter_id === 'c2')) throw new Error('simulated projection bug for c2');
      return applyCounterRows(db, rows);
    },
  };
  const projections = { counters };

  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'projector');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 4 });
    nats = await connectNats(testStack().NATS_URL, 'projector-test');
    jsm = await jetstreamManager(nats);
    await ensureEventsStream(jsm, stream);
    worker = await startTestWorker(
      createProjectorActivities({ pool, js: jetstream(nats), stream, projections }),
      'projector',
    );
  });
  after(async () => {
    await worker?.stop();
    await jsm?.streams.delete(stream.name).catch(() => undefined);
    await nats?.drain();
    await pool?.end();
    await db?.drop();
  });

  it('parks the failing event after bounded attempts, projects the rest, and re-drives it after the fix', async () => {
    const js = jetstream(nats);
    const events = [
      counterEvent('c1', 1, { by: 1, value: 1, version: 1 }),
      counterEvent('c2', 1, { by: 5, value: 5, version: 1 }), // hits the "bug"
      counterEvent('c3', 1, { by: 'x', value: 1, version: 1 }), // breaks the contract: poison for good
      counterEvent('c1', 2, { by: 1, value: 2, version: 2 }),
    ];
    for (const event of events)
      await js.publish(subjectOf(stream, event), JSON.stringify(toEnvelope(event)), { msgID: event.eventId });

    const handle = await worker.client.workflow.start(projection, {
      taskQueue: worker.taskQueue,
      workflowId: `projection-test/${randomUUID()}`,
      args: [{ projection: 'counters', batchSize: 50, loopMs: 1_000 }],
    });
    await until(
      'both bad events parked and c1 projected',
      async () => {
        const parked = await listDeadLetters(pool, 'counters');
        return (
          parked.length === 2 && (await readCounterSummary(pool, { tenantId: 'poison', counterId: 'c1' })).version === 2
        );
      },
      90_000,
    );
    const parked = await listDeadLetters(pool, 'counters');
    assert.deepEqual(
      parked.map((p) => [p.eventId, p.attempts]),
      [
        [events[1]!.eventId, MAX_ATTEMPTS], // its batch statement failed: one by one, retried, parked
        [events[2]!.eventId, 1], // breaks its contract: parked before the statement, no retry would help
      ],
    );
    assert.match(parked[0]!.error, /simulated projection bug/);
    assert.match(parked[1]!.error, /expected number/);
    // The loop reports its totals to the workflow when it returns (after loopMs).
    await until('the loop reported', async () => (await handle.query(projectionProgressQuery)).parked === 2, 30_000);

    bugInC2 = false;
    const redriven = await redriveDeadLetters(pool, projections, 'all');
    assert.deepEqual(
      redriven.map((r) => r.outcome),
      ['applied', 'failed'],
      'the fixed one applies; the contract breaker stays parked',
    );
    assert.deepEqual(await readCounterSummary(pool, { tenantId: 'poison', counterId: 'c2' }), {
      tenantId: 'poison',
      counterId: 'c2',
      value: 5,
      version: 1,
    });
    assert.deepEqual(
      (await listDeadLetters(pool)).map((p) => p.eventId),
      [events[2]!.eventId],
    );
    await handle.terminate('test done');
  });
});
