// 8. A peer: the same increments through Emmett's PostgreSQL event store (append with expected
// version), same concurrency, one stream per client. Emmett appends events and checks the stream
// version; our command also claims the idempotency key, reads and CAS-updates the counter row and
// stores the response. So the ratio prices those guarantees against a lean event append.
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import type { BenchContext } from './context.ts';
import { closedLoop, row, type Measure, type Row } from './measure.ts';
import { commandLoad } from './command.bench.ts';

type CounterIncremented = { type: 'CounterIncremented'; data: { by: number; value: number } };

export async function emmettRows(ctx: BenchContext, ours: Measure): Promise<Row[]> {
  const { concurrency, durationMs } = commandLoad(ctx);
  const store = getPostgreSQLEventStore(ctx.databaseUrl);
  try {
    await store.schema.migrate();
    const versions: bigint[] = Array.from({ length: concurrency }, () => 0n);
    const values: number[] = Array.from({ length: concurrency }, () => 0);
    const append = async (worker: number) => {
      values[worker]! += 1;
      const result = await store.appendToStream<CounterIncremented>(
        `counter-emmett${worker}`,
        [{ type: 'CounterIncremented', data: { by: 1, value: values[worker]! } }],
        versions[worker] === 0n
          ? { expectedStreamVersion: 'STREAM_DOES_NOT_EXIST' }
          : { expectedStreamVersion: versions[worker]! },
      );
      versions[worker] = result.nextExpectedStreamVersion;
    };
    for (let w = 0; w < concurrency; w++) await append(w);
    ctx.say(`  Emmett appendToStream (${concurrency} workers)…`);
    const emmett = await closedLoop(
      'Emmett PostgreSQL event store: appendToStream with expected version',
      concurrency,
      durationMs,
      append,
    );
    return [
      row(
        'peer',
        'increment: our service command vs Emmett append',
        'throughput',
        'commands/s',
        ours,
        emmett,
        `${concurrency} concurrent clients, one stream/counter each`,
      ),
    ];
  } finally {
    await store.close();
  }
}
