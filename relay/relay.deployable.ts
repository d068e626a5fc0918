// Composition root of the outbox relay: Postgres (outbox) + NATS (JetStream) + a worker on `outbox-relay`.
import { databaseEnv, logEnv, natsEnv, temporalEnv } from '../runtime/config.ts';
import { connectNats } from '../runtime/connections.ts';
import { defineDeployable } from '../runtime/deployable.ts';
import { startWorker } from '../runtime/worker.ts';
import { createDatabasePool } from '../services/kernel/database.ts';
import { createRelayActivities } from './relay.activities.ts';

export const RELAY_TASK_QUEUE = 'outbox-relay';

export const relay = defineDeployable({
  name: 'relay',
  config: logEnv.extend(databaseEnv.shape).extend(natsEnv.shape).extend(temporalEnv.shape),
  async start(config, context) {
    const pool = await createDatabasePool(config.DATABASE_URL, { maximumPoolSize: config.DATABASE_POOL_SIZE });
    const nats = await connectNats(config.NATS_URL, 'relay');
    return startWorker(
      {
        address: config.TEMPORAL_ADDRESS,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: RELAY_TASK_QUEUE,
        activities: createRelayActivities({ pool }),
        closeAfter: async () => {
          await nats.drain();
          await pool.end();
        },
      },
      context,
    );
  },
});
