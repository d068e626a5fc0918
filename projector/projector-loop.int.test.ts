// The projection loop against real Postgres and NATS, run as an activity outside Temporal: it
// consumes continuously from after its checkpoint, commits each batch with the checkpoint, and
// stops — applying nothing more — once a newer loop has taken its lease.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { after, afterEach, before, beforeEach, describe, it } from 'mocha';
import { sql } from 'slonik';
import { z } from 'zod';
import { connectNats, type NatsConnection } from '../runtime/connections.ts';
import { ensureEventsStream, subjectOf } from '../runtime/events-stream.ts';
import { createDatabasePool, type DatabasePool } from '../services/kernel/database.ts';
import { LeaseLostError, takeLease } from '../services/kernel/lease.ts';
import type { OutboxEvent } from '../services/kernel/outbox.ts';
import {
  applyCounterRows,
  counterProjection,
  readCounterSummary,
  type CounterRow,
} from '../services/read-models/counters.read-model.ts';
import { loadProjectionCheckpoint, type Projection } from '../services/read-models/projections.ts';
import { createMigratedDatabase, type FreshDatabase } from '../test/support/database.ts';
import { testStack } from '../test/support/env.ts';
import { counterIncremented, until } from '../test/support/pipeline.ts';
import {
  createProjectorActivities,
  type ProjectLoopInput,
  type ProjectLoopResult,
  type ProjectorActivities,
} from './projector.activities.ts';
import { toEnvelope } from '../contracts/envelope.ts';

/** The loop's expected failures are asserted; the activity environment need not print them. */
const quiet = new DefaultLogger('ERROR');

describe('projection loop (continuous consumer, lease)', function () {
  this.timeout(60_000);
  let db: FreshDatabase;
  let pool: DatabasePool;
  let nats: NatsConnection;
  let jsm: JetStreamManager;
  let stream: { name: string; subjectPrefix: string };
  let version = 0;
  let applied = 0;

  /** Publishes the next increments of counter `c` (value = version). */
  const publish = async (n: number) => {
    const js = jetstream(nats);
    for (let i = 0; i < n; i++) {
      version++;
      const event = counterIncremented('loop', 'c', version);
      await js.publish(subjectOf(stream, event), JSON.stringify(toEnvelope(event)), { msgID: event.eventId });
    }
  };
  const run = (input: Omit<ProjectLoopInput, 'projection'>) =>
    new MockActivityEnvironment(undefined, { logger: quiet }).run<
      [ProjectLoopInput],
      ProjectLoopResult,
      ProjectorActivities['projectLoop']
    >(
      createProjectorActivities({
        pool,
        js: jetstream(nats),
        stream,
        projections: {
          counters: {
            ...counterProjection(),
            apply: async (tx, rows: CounterRow[]) => {
              applied += rows.length;
              return applyCounterRows(tx, rows);
            },
          } satisfies Projection<CounterRow>,
        },
      }).projectLoop,
      { projection: 'counters', ...input },
    );
  const value = async () => (await readCounterSummary(pool, { tenantId: 'loop', counterId: 'c' })).value;

  before(async () => {
    nats = await connectNats(testStack().NATS_URL, 'projector-loop-test');
    jsm = await jetstreamManager(nats);
  });
  beforeEach(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'projector_loop');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 6 });
    stream = { name: `PLOOP_${randomUUID().slice(0, 8)}`, subjectPrefix: `pl${randomUUID().slice(0, 8)}` };
    await ensureEventsStream(jsm, stream);
    version = 0;
    applied = 0;
  });
  afterEach(async () => {
    await jsm.streams.delete(stream.name).catch(() => undefined);
    await pool.end();
    await db.drop();
  });
  after(async () => {
    await nats?.drain();
  });

  it('applies what arrives while it runs, in batches, and the next loop starts after the checkpoint', async () => {
    await publish(7);
    const first = run({ batchSize: 3, loopMs: 3_000 });
    await until('the backlog applied', async () => (await loadProjectionCheckpoint(pool, 'counters')) === 7, 10_000);
    await publish(2); // arrives while the loop runs
    const totals = await first;
    assert.equal(totals.applied, 9);
    assert.ok(totals.batches >= 4, `7 events in batches of 3, then 2 more: ${totals.batches} batches`);
    assert.equal(await value(), 9);

    await publish(1);
    const second = await run({ batchSize: 3, loopMs: 10_000, maxBatches: 1 });
    assert.deepEqual([second.applied, second.lastSequence], [1, 10]);
    assert.equal(applied, 10, 'no event applied twice');
  });

  it('forged events are parked and counted, never applied: a version jump, a body on the wrong subject, a contract breach', async () => {
    await publish(3);
    const js = jetstream(nats);
    const forge = async (changes: Partial<OutboxEvent>, subjectTenant = 'loop') => {
      const event: OutboxEvent = { ...counterIncremented('loop', 'c', 4), position: '1', txId: '1', ...changes };
      await js.publish(subjectOf(stream, { ...event, tenantId: subjectTenant }), JSON.stringify(toEnvelope(event)));
    };
    await forge({ aggregateVersion: 1000, payload: { by: 1, value: 999_999, version: 1000 } }); // a jump
    await forge({ payload: { by: 1, value: 777, version: 4 } }, 'other'); // the next version, on another tenant's subject
    await forge({ payload: { by: 1, value: 4, version: 5 } }); // payload and envelope disagree
    await publish(2); // the real versions 4 and 5
    const totals = await run({ batchSize: 100, loopMs: 3_000 });
    assert.equal(await loadProjectionCheckpoint(pool, 'counters'), 8);
    assert.deepEqual([totals.applied, totals.parked], [5, 3]);
    assert.deepEqual(await readCounterSummary(pool, { tenantId: 'loop', counterId: 'c' }), {
      tenantId: 'loop',
      counterId: 'c',
      value: 5,
      version: 5,
    });
    const reasons = await pool.anyFirst(sql.type(z.object({ error: z.string() }))`
      select error from projection_dead_letters order by stream_sequence`);
    assert.equal(reasons.length, 3);
    assert.match(reasons[0]!, /version 1000 does not follow version 3 of \["loop","c"\]/);
    assert.match(
      reasons[1]!,
      /arrived on .*\.other\.counter\.CounterIncremented, but its body belongs on .*\.loop\.counter/,
    );
    assert.match(reasons[2]!, /payload version 5 differs from aggregate version 4/);
  });

  it('a loop whose lease was taken stops before its next batch and applies nothing more', async () => {
    await publish(3);
    const older = run({ batchSize: 10, loopMs: 20_000 });
    older.catch(() => undefined); // asserted below
    await until('the older loop applied', async () => (await loadProjectionCheckpoint(pool, 'counters')) === 3, 10_000);
    await takeLease(pool, 'projection/counters', 'a newer loop');
    await publish(2);
    await assert.rejects(older, LeaseLostError);
    assert.equal(await value(), 3, 'nothing applied after the takeover');
    assert.equal(await loadProjectionCheckpoint(pool, 'counters'), 3);
  });
});
