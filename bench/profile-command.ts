// Profiles the command path — keyed counter increments through the service, in-process, 16 at a time —
// with the V8 CPU profiler, to see where the time goes beside Postgres. Against the stack from `npm run up`:
//   node --import tsx --cpu-prof --cpu-prof-dir=.local/profiles bench/profile-command.ts [seconds]
// then: node --import tsx bench/profile-summary.ts .local/profiles/<file>.cpuprofile
import { randomUUID } from 'node:crypto';
import { loadStackSettings } from '../cli/stack/settings.ts';
import { databaseUrl } from '../cli/stack/postgres.ts';
import { createCounterCommands } from '../services/counter/counter.commands.ts';
import { createDatabasePool } from '../services/kernel/database.ts';
import { createMigratedDatabase } from '../test/support/database.ts';
import { onboardedTenant } from '../test/support/tenants.ts';
import { closedLoop } from './measure.ts';

const seconds = Number(process.argv[2] ?? 10);
const concurrency = 16;
const db = await createMigratedDatabase(databaseUrl(loadStackSettings('dev', process.env)), 'profile');
const pool = await createDatabasePool(db.url, { maximumPoolSize: concurrency });
try {
  // Counters are written only in an active tenant with a plan quota (its database side is enough here).
  await onboardedTenant(pool, { tenantId: 'profile', owner: 'profile', plan: 'pro' });
  const commands = createCounterCommands({ pool });
  const increment = async (worker: number) => {
    await commands.execute({
      tenantId: 'profile',
      counterId: `c${worker}`,
      idempotencyKey: randomUUID(),
      command: { type: 'increment', by: 1 },
      metadata: { actor: 'profile' },
    });
  };
  for (let w = 0; w < concurrency; w++) await increment(w);
  const cpu0 = process.cpuUsage();
  const measure = await closedLoop('service command in-process', concurrency, seconds * 1000, increment);
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `${measure.count} commands in ${seconds} s (${Math.round(measure.throughput!)}/s, p50 ${measure.p50?.toFixed(1)} ms); ` +
      `this process was on CPU ${(((cpu.user + cpu.system) / 1e6 / seconds) * 100).toFixed(0)}% of that time, ` +
      `${((cpu.user + cpu.system) / 1000 / measure.count!).toFixed(2)} ms per command\n`,
  );
} finally {
  await pool.end();
  await db.drop();
}
