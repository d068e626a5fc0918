// Restart the test stack's own NATS or PostgreSQL in the middle of a test (fault runs).
import { join } from 'node:path';
import { natsHealthy, natsMonitorUrl, startNats } from '../../cli/stack/nats.ts';
import { postgresHealthy, databaseUrl, startPostgres, stopPostgres } from '../../cli/stack/postgres.ts';
import { stopPid, waitFor } from '../../cli/stack/processes.ts';
import { readRecord, writeRecord } from '../../cli/stack/record.ts';
import { loadStackSettings } from '../../cli/stack/settings.ts';
import { ensureNatsServer, ensurePostgresBinaries } from '../../cli/stack/tools.ts';

const quiet = () => undefined;

/** True when the test stack runs its own servers (not ones given by DATABASE_URL / NATS_URL). */
export function ownsServers(): boolean {
  const record = readRecord(loadStackSettings('test', process.env).paths.record);
  return Boolean(record.postgres && record.nats);
}

export async function restartNats(downMs: number): Promise<void> {
  const settings = loadStackSettings('test', process.env);
  const record = readRecord(settings.paths.record);
  if (record.nats) await stopPid(record.nats.pid);
  await new Promise((resolve) => setTimeout(resolve, downMs));
  const pid = startNats(settings, ensureNatsServer(quiet));
  writeRecord(settings.paths.record, { ...readRecord(settings.paths.record), nats: { pid, marker: 'nats-server' } });
  await waitFor(
    'nats after restart',
    () => natsHealthy(natsMonitorUrl(settings)),
    30_000,
    join(settings.paths.logs, 'nats.log'),
  );
}

export async function restartPostgres(downMs: number): Promise<void> {
  const settings = loadStackSettings('test', process.env);
  const bin = ensurePostgresBinaries(quiet);
  stopPostgres(settings, bin);
  await new Promise((resolve) => setTimeout(resolve, downMs));
  const pid = await startPostgres(settings, bin, quiet);
  writeRecord(settings.paths.record, { ...readRecord(settings.paths.record), postgres: { pid, marker: 'postgres' } });
  await waitFor('postgres after restart', () => postgresHealthy(databaseUrl(settings)), 30_000);
}
