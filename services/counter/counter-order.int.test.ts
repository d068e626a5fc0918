// Invariant I3 on the way out of the outbox (docs/event-order.md): whatever the interleaving of
// writers, the gap-free reader hands a counter's events over in version order. The worst case is
// forced deterministically: a command claims its Idempotency-Key (its first write, which fixes its
// tx_id), stalls, and loads the counter only after a rival command committed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'mocha';
import { COUNTER_AGGREGATE, counterEvents } from '../../contracts/counter.events.ts';
import { runCommand } from '../kernel/command.ts';
import { createDatabasePool, type DatabasePool } from '../kernel/database.ts';
import { OUTBOX_START, readOutboxBatch } from '../kernel/outbox.ts';
import { createMigratedDatabase, type FreshDatabase } from '../../test/support/database.ts';
import { testStack } from '../../test/support/env.ts';
import { createCounterCommands } from './counter.commands.ts';
import { decide, evolve } from './counter.domain.ts';
import { counterWrite, loadCounterForWrite } from './counter.store.ts';
import { activeTenantRows } from '../../test/support/tenants.ts';

describe('per-aggregate order on the outbox reader (invariant I3)', function () {
  this.timeout(30_000);
  let db: FreshDatabase;
  let pool: DatabasePool;

  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'order');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 4 });
    await activeTenantRows(pool, 'order');
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('a command that claims its key, stalls, and loads after a rival committed is still read after the rival', async () => {
    const key = { tenantId: 'order', counterId: 'c1' };
    const counters = createCounterCommands({ pool });
    const increment = { type: 'increment', by: 1 } as const;
    await counters.execute({ ...key, command: increment, idempotencyKey: randomUUID(), metadata: {} });

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let claimed!: () => void;
    const hasClaimed = new Promise<void>((resolve) => (claimed = resolve));
    // The same path as the counter command (services/counter/counter.commands.ts), with a pause
    // between the idempotency claim and the load.
    const stalled = runCommand(pool, {
      aggregate: { tenantId: key.tenantId, type: COUNTER_AGGREGATE, id: key.counterId },
      explicitVersion: false,
      idempotency: {
        scope: { tenantId: key.tenantId, caller: 'u1', operation: 'counter.increment', key: randomUUID() },
        request: { counterId: key.counterId, command: increment },
      },
      async execute(tx, commit) {
        claimed();
        await gate;
        const state = await loadCounterForWrite(tx, key);
        const event = decide(state, increment);
        const next = evolve(state, event);
        return commit({
          cas: counterWrite(key, state.version, next),
          events: [
            {
              tenantId: key.tenantId,
              aggregateType: COUNTER_AGGREGATE,
              aggregateId: key.counterId,
              aggregateVersion: next.version,
              eventType: event.type,
              schemaVersion: counterEvents[event.type].schemaVersion,
              payload: event.payload,
              metadata: {},
            },
          ],
          respond: () => next.version,
        });
      },
    });
    await hasClaimed;
    const rival = counters.execute({ ...key, command: increment, idempotencyKey: randomUUID(), metadata: {} });
    const rivalFirst = await Promise.race([
      rival.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 1_000)),
    ]);
    release();
    const [stalledVersion, rivalResult] = await Promise.all([stalled, rival]);

    const read = await readOutboxBatch(pool, OUTBOX_START, 100);
    assert.deepEqual(
      read.filter((e) => e.aggregateId === key.counterId).map((e) => e.aggregateVersion),
      [1, 2, 3],
      'the reader hands the versions over in order',
    );
    assert.equal(rivalFirst, false, 'the rival waited for the writer that held the counter');
    assert.deepEqual([stalledVersion.response, rivalResult.response.version], [2, 3]);
  });
});
