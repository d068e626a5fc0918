// Invariant I2 (docs/architecture.md): the gap-free reader never skips a committed event and never returns one twice, even when
// transactions commit out of `position` order.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { sql } from 'slonik';
import { createMigratedDatabase, type FreshDatabase } from '../../test/support/database.ts';
import { testStack } from '../../test/support/env.ts';
import { createDatabasePool, type DatabasePool } from './database.ts';
import {
  appendEvents,
  checkpointOf,
  OUTBOX_START,
  readOutboxBatch,
  type NewEvent,
  type OutboxCheckpoint,
} from './outbox.ts';

let sequence = 0;
const event = (aggregateId: string): NewEvent => ({
  tenantId: 'gapfree',
  aggregateType: 'counter',
  aggregateId,
  aggregateVersion: ++sequence,
  eventType: 'CounterIncremented',
  schemaVersion: 1,
  payload: { by: 1, value: sequence, version: sequence },
  metadata: {},
});

function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

async function readAll(pool: DatabasePool, from: OutboxCheckpoint, batch = 50) {
  const seen = [];
  let checkpoint = from;
  for (;;) {
    const rows = await readOutboxBatch(pool, checkpoint, batch);
    if (rows.length === 0) return { seen, checkpoint };
    seen.push(...rows);
    checkpoint = checkpointOf(rows[rows.length - 1]!);
  }
}

describe('outbox: only contract events are written', function () {
  let db: FreshDatabase;
  let pool: DatabasePool;
  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'contractevents');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 1 });
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('refuses an event without a contract and a payload its contract refuses; stores nothing', async () => {
    const unknown = { ...event('x'), eventType: 'Probed' } as unknown as NewEvent;
    await assert.rejects(
      pool.transaction((tx) => appendEvents(tx, [unknown])),
      /no contract for counter event Probed v1/,
    );
    const broken = { ...event('x'), payload: { by: -1, value: 1, version: 1 } };
    await assert.rejects(
      pool.transaction((tx) => appendEvents(tx, [broken])),
      /CounterIncremented v1 payload breaks its contract: by/,
    );
    assert.equal(await pool.oneFirst(sql.unsafe`select count(*)::int from event_outbox`), 0);
  });
});

describe('outbox: gap-free reader (tx_id below snapshot xmin, ordered by (tx_id, position))', function () {
  this.timeout(120_000);
  let db: FreshDatabase;
  let pool: DatabasePool;
  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'outbox');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 12 });
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('holds back a committed event while an earlier-positioned transaction is still open', async () => {
    const openTx = deferred();
    const wrote = deferred();
    let earlyId = '';
    const early = pool.transaction(async (tx) => {
      earlyId = (await appendEvents(tx, [event('early')]))[0]!; // takes the lower position…
      wrote.release();
      await openTx.promise; // …and commits last
    });
    await wrote.promise;
    const [lateId] = await pool.transaction((tx) => appendEvents(tx, [event('late')]));

    const whileOpen = await readOutboxBatch(pool, OUTBOX_START, 100);
    assert.deepEqual(
      whileOpen.map((e) => e.eventId),
      [],
      'a position-ordered reader would return "late" here and later skip "early"',
    );

    openTx.release();
    await early;
    const afterCommit = await readOutboxBatch(pool, OUTBOX_START, 100);
    assert.deepEqual(
      afterCommit.map((e) => e.eventId),
      [earlyId, lateId],
    );
    const positions = afterCommit.map((e) => BigInt(e.position));
    assert.ok(positions[0]! < positions[1]!);
  });

  it('orders by transaction, not position, when the older transaction writes later', async () => {
    const { checkpoint } = await readAll(pool, OUTBOX_START);
    const go = deferred();
    const started = deferred();
    let olderId = '';
    const older = pool.transaction(async (tx) => {
      await tx.query(sql.unsafe`select pg_current_xact_id()`); // the older transaction id…
      started.release();
      await go.promise;
      olderId = (await appendEvents(tx, [event('older')]))[0]!; // …writes the higher position
    });
    await started.promise;
    const [youngerId] = await pool.transaction((tx) => appendEvents(tx, [event('younger')]));
    assert.deepEqual(
      (await readOutboxBatch(pool, checkpoint, 100)).length,
      0,
      'nothing is safe while the older transaction runs',
    );
    go.release();
    await older;
    const rows = await readOutboxBatch(pool, checkpoint, 100);
    assert.deepEqual(
      rows.map((e) => e.eventId),
      [olderId, youngerId],
    );
    assert.ok(BigInt(rows[0]!.position) > BigInt(rows[1]!.position), 'positions are out of order, tx ids are not');
  });

  it('under concurrent writers with random commit delays, a checkpointing reader sees every event exactly once', async () => {
    const { checkpoint: start } = await readAll(pool, OUTBOX_START);
    const writers = 8;
    const perWriter = 25;
    const written: string[] = [];
    let writing = true;
    const writerRuns = Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < perWriter; i++) {
        const ids = await pool.transaction(async (tx) => {
          const appended = await appendEvents(tx, [event(`w${w}`)]);
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 15));
          return appended;
        });
        written.push(...ids);
      }
    });
    const seen: string[] = [];
    let checkpoint = start;
    let previous: [bigint, bigint] = [0n, 0n];
    const reader = (async () => {
      while (writing || seen.length < written.length) {
        const rows = await readOutboxBatch(pool, checkpoint, 7);
        for (const row of rows) {
          const key: [bigint, bigint] = [BigInt(row.txId), BigInt(row.position)];
          assert.ok(
            key[0] > previous[0] || (key[0] === previous[0] && key[1] > previous[1]),
            'strictly increasing (tx_id, position)',
          );
          previous = key;
          seen.push(row.eventId);
        }
        if (rows.length > 0) checkpoint = checkpointOf(rows[rows.length - 1]!);
        else await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    await Promise.all(writerRuns);
    writing = false;
    await reader;
    assert.equal(written.length, writers * perWriter);
    assert.equal(new Set(seen).size, seen.length, 'no event returned twice');
    assert.deepEqual([...seen].sort(), [...written].sort(), 'no event skipped');
  });

  it('reads a transaction larger than a batch in position order, every event once (positions past 9, 99, 999…)', async () => {
    const { checkpoint: start } = await readAll(pool, OUTBOX_START);
    const ids = await pool.transaction((tx) =>
      appendEvents(
        tx,
        Array.from({ length: 1_234 }, (_, i) => event(`big-${i}`)),
      ),
    );
    const { seen } = await readAll(pool, start, 100);
    assert.deepEqual(
      seen.map((e) => e.eventId),
      ids,
      'all of them, in the order they were written',
    );
    const positions = seen.map((e) => Number(e.position));
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
      'numeric order, not the text order of the position column',
    );
  });
});
