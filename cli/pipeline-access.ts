// Opens the stack's database and JetStream for CLI commands (status lag, dlq, rebuild).
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { eventsStreamEnv, type EventsStream } from '../runtime/events-stream.ts';
import { parseEnv } from '../runtime/config.ts';
import { connectNats } from '../runtime/connections.ts';
import { createDatabasePool, type DatabasePool } from '../services/kernel/database.ts';
import { natsUrl } from './stack/nats.ts';
import { databaseUrl } from './stack/postgres.ts';
import { StackError } from './stack/processes.ts';
import type { StackSettings } from './stack/settings.ts';

export interface PipelineAccess {
  pool: DatabasePool;
  jsm: JetStreamManager;
  stream: EventsStream;
}

export async function withPipeline<T>(
  settings: StackSettings,
  use: (access: PipelineAccess) => Promise<T>,
): Promise<T> {
  const env = parseEnv(eventsStreamEnv, process.env, 'the events stream');
  let url: string;
  try {
    url = settings.external.databaseUrl ?? databaseUrl(settings);
  } catch {
    throw new StackError('the local stack has no database yet; run `npm run up` first (or set DATABASE_URL)');
  }
  const pool = await createDatabasePool(url, { maximumPoolSize: 2 });
  const nats = await connectNats(settings.external.natsUrl ?? natsUrl(settings), 'cli').catch((error: unknown) => {
    throw new StackError(`cannot reach NATS (${(error as Error).message}); is the stack up? (npm run status)`);
  });
  try {
    return await use({
      pool,
      jsm: await jetstreamManager(nats),
      stream: { name: env.EVENTS_STREAM, subjectPrefix: env.EVENTS_SUBJECT_PREFIX },
    });
  } finally {
    await nats.drain().catch(() => undefined);
    await pool.end();
  }
}
