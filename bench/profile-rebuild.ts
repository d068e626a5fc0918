// Profiles the slowest path the benchmarks found — the rebuild's replay — in-process, with the V8
// CPU profiler, and prints where the time goes. Run against the stack from `npm run up`:
//   node --import tsx --cpu-prof --cpu-prof-dir=.local/profiles bench/profile-rebuild.ts [events]
// then: node --import tsx bench/profile-summary.ts .local/profiles/<file>.cpuprofile
import { MockActivityEnvironment } from '@temporalio/testing';
import { sql } from 'slonik';
import { loadStackSettings } from '../cli/stack/settings.ts';
import { databaseUrl } from '../cli/stack/postgres.ts';
import { createRebuildActivities } from '../projector/rebuild.activities.ts';
import { PROJECTION_DEFINITIONS } from '../services/read-models/projections.ts';
import { createDatabasePool } from '../services/kernel/database.ts';
import { createMigratedDatabase } from '../test/support/database.ts';

const events = Number(process.argv[2] ?? 20_000);
const db = await createMigratedDatabase(databaseUrl(loadStackSettings('dev', process.env)), 'profile');
const pool = await createDatabasePool(db.url, { maximumPoolSize: 4 });
try {
  await pool.query(sql.unsafe`
    insert into event_outbox (event_id, tenant_id, aggregate_type, aggregate_id, aggregate_version, event_type, schema_version, payload, metadata)
    select gen_random_uuid(), 't' || (g % 10), 'counter', 'c' || (g % 100), 1 + g / 100, 'CounterIncremented', 1,
           jsonb_build_object('by', 1, 'value', 1 + g / 100, 'version', 1 + g / 100), '{}'::jsonb
    from generate_series(0, ${events - 1}) g`);
  const activities = createRebuildActivities({ pool, projections: PROJECTION_DEFINITIONS });
  const total = await activities.prepareRebuild('counters');
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const replay = (input: { projection: string; total: number }) => activities.replayIntoRebuild(input);
  const progress = await new MockActivityEnvironment().run<
    [{ projection: string; total: number }],
    { replayed: number },
    typeof replay
  >(replay, { projection: 'counters', total });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `replayed ${progress.replayed} events in ${seconds.toFixed(2)} s (${Math.round(progress.replayed / seconds)} events/s); ` +
      `this process was on CPU ${(((cpu.user + cpu.system) / 1e6 / seconds) * 100).toFixed(0)}% of that time\n`,
  );
} finally {
  await pool.end();
  await db.drop();
}
