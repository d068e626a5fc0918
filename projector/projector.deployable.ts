// Composition root of the projector: NATS (JetStream consumer) + Postgres (read models) + a worker on `projector`.
import { databaseEnv, logEnv, natsEnv, temporalEnv } from '../runtime/config.ts';
import { connectNats } from '../runtime/connections.ts';
import { defineDeployable } from '../runtime/deployable.ts';
import { startWorker } from '../runtime/worker.ts';
import { createDatabasePool } from '../services/kernel/database.ts';
import { createProjectorActivities } from './projector.activities.ts';

export const PROJECTOR_TASK_QUEUE = 'projector';

export const projector = defineDeployable({
  name: 'projector',
  config: logEnv.extend(databaseEnv.shape).extend(natsEnv.shape).extend(temporalEnv.shape),
  async start(config, context) {
    const pool = await createDatabasePool(config.DATABASE_URL, { maximumPoolSize: config.DATABASE_POOL_SIZE });
    const nats = await connectNats(config.NATS_URL, 'projector');
    return startWorker(
      {
        address: config.TEMPORAL_ADDRESS,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: PROJECTOR_TASK_QUEUE,
        activities: createProjectorActivities({ pool }),
        closeAfter: async () => {
          await nats.drain();
          await pool.end();
        },
      },
      context,
    );
  },
});
