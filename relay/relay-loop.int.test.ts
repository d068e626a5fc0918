// The relay loop against real Postgres and NATS, run as an activity outside Temporal: it keeps the
// stream in outbox order when a publish fails mid-batch, picks up what a dead loop published but
// never committed, refuses a stream it did not write, and stops — publishing nothing more — once a
// newer loop has taken its lease.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { after, afterEach, before, beforeEach, describe, it } from 'mocha';
import { pino } from 'pino';
import { sql } from 'slonik';
import { z } from 'zod';
import { connectNats, type NatsConnection } from '../runtime/connections.ts';
import { ensureEventsStream, RELAY_READER, subjectOf } from '../runtime/events-stream.ts';
import { createPgListener, type PgListener } from '../runtime/pg-listener.ts';
import { createCounterCommands } from '../services/counter/counter.commands.ts';
import { createDatabasePool, type DatabasePool } from '../services/kernel/database.ts';
import { LeaseLostError, takeLease } from '../services/kernel/lease.ts';
import { loadCheckpoint, loadStreamSequence, OUTBOX_START, readOutboxBatch } from '../services/kernel/outbox.ts';
import { createMigratedDatabase, type FreshDatabase } from '../test/support/database.ts';
import { testStack } from '../test/support/env.ts';
import { storedMessageIds, until } from '../test/support/pipeline.ts';
import {
  createRelayActivities,
  jetStreamPublish,
  type Publish,
  type RelayActivities,
  type RelayLoopInput,
  type RelayLoopResult,
} from './relay.activities.ts';
import { activeTenantRows } from '../test/support/tenants.ts';

/** The loop's expected failures are asserted; the activity environment need not print them. */
const quiet = new DefaultLogger('ERROR');

describe('relay loop (lease, order, reconcile)', function () {
  this.timeout(60_000);
  let db: FreshDatabase;
  let pool: DatabasePool;
  let nats: NatsConnection;
  let jsm: JetStreamManager;
  let listener: PgListener;
  let stream: { name: string; subjectPrefix: string };
  let real: Publish;
  let counter = 0;

  const write = async (n: number) => {
    const commands = createCounterCommands({ pool });
    for (let i = 0; i < n; i++)
      await commands.execute({
        tenantId: 'loop',
        counterId: `c${counter++ % 3}`,
        command: { type: 'increment', by: 1 },
        metadata: {},
      });
  };
  const outboxIds = () =>
    pool.anyFirst(sql.type(z.object({ id: z.string() }))`
      select event_id::text as id from event_outbox order by tx_id, position`);
  const run = (publish: Publish, input: RelayLoopInput) =>
    new MockActivityEnvironment(undefined, { logger: quiet }).run<
      [RelayLoopInput],
      RelayLoopResult,
      RelayActivities['relayLoop']
    >(createRelayActivities({ pool, jsm, stream, publish, listener }).relayLoop, input);

  before(async () => {
    nats = await connectNats(testStack().NATS_URL, 'relay-loop-test');
    jsm = await jetstreamManager(nats);
    real = jetStreamPublish(jetstream(nats));
  });
  beforeEach(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'relay_loop');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 6 });
    await activeTenantRows(pool, 'loop');
    listener = createPgListener(db.url, 'event_outbox', pino({ level: 'silent' }));
    stream = { name: `RLOOP_${randomUUID().slice(0, 8)}`, subjectPrefix: `rl${randomUUID().slice(0, 8)}` };
    await ensureEventsStream(jsm, stream);
  });
  afterEach(async () => {
    await jsm.streams.delete(stream.name).catch(() => undefined);
    await listener.close();
    await pool.end();
    await db.drop();
  });
  after(async () => {
    await nats?.drain();
  });

  it('publishes batch after batch in outbox order and records the stream sequence with the checkpoint', async () => {
    await write(23);
    const totals = await run(real, { batchSize: 5, loopMs: 10_000, maxBatches: 5 });
    assert.deepEqual([totals.published, totals.batches, totals.duplicates], [23, 5, 0]);
    assert.deepEqual(await storedMessageIds(jsm, stream.name), await outboxIds());
    assert.equal(await loadStreamSequence(pool, RELAY_READER), 23);
  });

  it('a failed publish keeps the rest of its batch off the stream; the next loop goes on in order', async () => {
    await write(10);
    await run(real, { batchSize: 5, loopMs: 10_000, maxBatches: 1 });
    let calls = 0;
    // The third event of the next batch fails; the two after it are sent and must be refused.
    const failingThird: Publish = async (subject, event, after) => {
      if (++calls === 3) throw new Error('injected publish failure');
      return real(subject, event, after);
    };
    await assert.rejects(run(failingThird, { batchSize: 5, loopMs: 10_000, maxBatches: 1 }), /injected/);
    const ids = await outboxIds();
    assert.deepEqual(
      await storedMessageIds(jsm, stream.name),
      ids.slice(0, 7),
      'events 6 and 7 landed, 9 and 10 did not',
    );
    assert.equal(calls, 5, 'all five were sent');

    const totals = await run(real, { batchSize: 5, loopMs: 10_000, maxBatches: 1 });
    assert.equal(totals.duplicates, 2, 'the two that landed were taken over as published');
    assert.equal(totals.published, 3);
    assert.deepEqual(await storedMessageIds(jsm, stream.name), ids);
    assert.deepEqual(await loadCheckpoint(pool, RELAY_READER), await lastCheckpoint());
  });

  it('refuses to go on when the stream holds an event that is not the outbox’s next', async () => {
    await write(4);
    await run(real, { batchSize: 2, loopMs: 10_000, maxBatches: 1 });
    const [next] = await readOutboxBatch(pool, await loadCheckpoint(pool, RELAY_READER), 1);
    await jetstream(nats).publish(subjectOf(stream, next!), '{}', { msgID: randomUUID() });
    await assert.rejects(
      run(real, { batchSize: 2, loopMs: 10_000 }),
      /sequence 3 holds event .* but the outbox's next event/,
    );
  });

  it('a loop whose lease was taken stops before its next batch and publishes nothing more', async () => {
    await write(5);
    let published = 0;
    const counting: Publish = async (subject, event, after) => {
      published++;
      return real(subject, event, after);
    };
    const older = run(counting, { batchSize: 5, loopMs: 20_000 });
    older.catch(() => undefined); // asserted below
    await until('the older loop published', async () => (await loadStreamSequence(pool, RELAY_READER)) === 5, 10_000);
    await takeLease(pool, 'relay', 'a newer loop');
    await write(5);
    await assert.rejects(older, LeaseLostError);
    assert.equal(published, 5, 'nothing published after the takeover');
    assert.equal((await jsm.streams.info(stream.name)).state.messages, 5);
  });

  it('a takeover waits for the batch in flight, which commits, and then fences it off', async () => {
    await write(1);
    await run(real, { batchSize: 3, loopMs: 10_000, maxBatches: 1 }); // a relay's first batch goes out one by one
    await write(3);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let sent = 0;
    const slow: Publish = async (subject, event, after) => {
      sent++;
      await held;
      return real(subject, event, after);
    };
    const older = run(slow, { batchSize: 3, loopMs: 20_000 });
    older.catch(() => undefined); // asserted below
    await until('the older loop is publishing', async () => sent === 3, 10_000);
    let taken = false;
    const takeover = takeLease(pool, 'relay', 'a newer loop').then(() => (taken = true));
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(taken, false, 'the takeover waits while a batch is being published');
    release();
    await takeover;
    assert.equal(await loadStreamSequence(pool, RELAY_READER), 4, 'the batch in flight committed before the takeover');
    await write(2);
    await assert.rejects(older, LeaseLostError);
    assert.equal(sent, 3);
  });

  async function lastCheckpoint() {
    const all = await readOutboxBatch(pool, OUTBOX_START, 1_000);
    const last = all[all.length - 1]!;
    return { txId: last.txId, position: last.position };
  }
});
