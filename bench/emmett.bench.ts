// 8. A peer: the same increments handled by Emmett (event sourcing on PostgreSQL), same concurrency,
// same pool size, one counter per client, each the median of the mode's runs with its CPU per command.
//   Without a key: Emmett's CommandHandler reads the counter's stream, folds its events into the
//   current value, decides a CounterIncremented with the new value and appends it, expecting the
//   version it read. Ours (no Idempotency-Key): one transaction that takes an advisory lock on the
//   counter, checks the tenant, loads the counter row, CAS-updates it and inserts the outbox event.
//   With a key: the same, plus one INSERT of (key, response) into bench_emmett_idempotency in the
//   append's transaction. Ours (with a key): also claims the key first and stores the response.
// Emmett 0.42 cannot append inside a transaction its caller opened: appendToStream always runs in its
// pool's withTransaction, and dumbo 0.12 sends its own BEGIN and COMMIT even on a connection passed in
// through connectionOptions (Postgres ignores that BEGIN; the COMMIT, or the ROLLBACK after a version
// conflict, ends the caller's transaction). What it offers instead is an inline projection, which runs
// in the append's transaction before its COMMIT: ours inserts the row for the key the command put in
// the event's metadata, so a duplicate key fails the INSERT and rolls the append back (Emmett reports
// it as a version conflict).
// Emmett rebuilds the state from all of the stream's events on every command, so each client moves to
// a new stream every STREAM_LENGTH increments: the replay cost does not grow with the run's length.
import { randomUUID } from 'node:crypto';
import { CommandHandler, projection, projections, type Event } from '@event-driven-io/emmett';
import {
  getPostgreSQLEventStore,
  type PostgresEventStore,
  type PostgreSQLProjectionHandlerContext,
  type PostgresReadEventMetadata,
} from '@event-driven-io/emmett-postgresql';
import pg from 'pg';
import type { BenchContext } from './context.ts';
import { closedLoop, row, type Measure, type Row } from './measure.ts';
import { commandLoad, commandMeasure } from './command.bench.ts';

const STREAM_LENGTH = 100;

type CounterIncremented = Event<'CounterIncremented', { by: number; value: number }, { idempotencyKey?: string }>;

const handle = CommandHandler<number, CounterIncremented>({
  evolve: (value, { data }) => value + data.by,
  initialState: () => 0,
});

// A plain projection: postgreSQLProjection would also register it in emt_projections (it needs a name
// then, and a named inline projection takes a lock on every append).
const idempotencyRow = projection<CounterIncremented, PostgresReadEventMetadata, PostgreSQLProjectionHandlerContext>({
  canHandle: ['CounterIncremented'],
  handle: async (events, { connection }) => {
    for (const { data, metadata } of events)
      await connection.client.query('INSERT INTO bench_emmett_idempotency (key, response) VALUES ($1, $2)', [
        metadata.idempotencyKey,
        { value: data.value, version: Number(metadata.streamPosition) },
      ]);
  },
});

export async function emmettRows(ctx: BenchContext, ours: { withoutKey: Measure; withKey: Measure }): Promise<Row[]> {
  const { concurrency, durationMs } = commandLoad(ctx);
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: concurrency });
  try {
    await pool.query('CREATE TABLE IF NOT EXISTS bench_emmett_idempotency (key text PRIMARY KEY, response jsonb)');
    const plain = getPostgreSQLEventStore(ctx.databaseUrl, { connectionOptions: { pool } });
    const keyed = getPostgreSQLEventStore(ctx.databaseUrl, {
      connectionOptions: { pool },
      projections: projections.inline([idempotencyRow]),
    });
    await plain.schema.migrate();
    await keyed.schema.migrate();
    const run = randomUUID().slice(0, 8);
    const done = Array.from({ length: concurrency }, () => 0);
    const measure = (label: string, store: PostgresEventStore, withKey: boolean) =>
      commandMeasure(ctx, () =>
        closedLoop(label, concurrency, durationMs, async (worker) => {
          const stream = `counter-${run}-${worker}-${Math.floor(done[worker]!++ / STREAM_LENGTH)}`;
          await handle(store, stream, (value) => ({
            type: 'CounterIncremented',
            data: { by: 1, value: value + 1 },
            metadata: withKey ? { idempotencyKey: randomUUID() } : {},
          }));
        }),
      );
    ctx.say(`  Emmett command handling (${concurrency} workers), with and without an idempotency row…`);
    const withoutKey = await measure('Emmett CommandHandler: read stream, decide, append', plain, false);
    const withKey = await measure('Emmett CommandHandler + idempotency row in the append transaction', keyed, true);
    const note = `${concurrency} concurrent clients, one counter each; streams of ≤ ${STREAM_LENGTH} events`;
    return [
      row(
        'peer',
        'increment: our command without key vs Emmett command handling',
        'throughput',
        'commands/s',
        ours.withoutKey,
        withoutKey,
        note,
      ),
      row(
        'peer',
        'increment: our command with key vs Emmett command handling + idempotency row',
        'throughput',
        'commands/s',
        ours.withKey,
        withKey,
        note,
      ),
    ];
  } finally {
    await pool.end();
  }
}
