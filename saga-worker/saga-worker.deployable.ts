// Composition root of the saga worker: polls task queue `tenant-sagas`, and keeps the maintenance
// schedule in place.
import { fileURLToPath } from 'node:url';
import { createMaintenanceActivities } from '../activities/maintenance/maintenance.activities.ts';
import { createSmokeActivities } from '../activities/smoke/smoke.activities.ts';
import { databaseEnv, logEnv, temporalEnv } from '../runtime/config.ts';
import { connectTemporalClient } from '../runtime/connections.ts';
import { defineDeployable } from '../runtime/deployable.ts';
import { startWorker } from '../runtime/worker.ts';
import { createDatabasePool } from '../services/kernel/database.ts';
import { ensureMaintenanceSchedule } from './maintenance-schedule.ts';

export const SAGA_TASK_QUEUE = 'tenant-sagas';

export const sagaWorker = defineDeployable({
  name: 'saga-worker',
  config: logEnv.extend(databaseEnv.shape).extend(temporalEnv.shape),
  async start(config, context) {
    const pool = await createDatabasePool(config.DATABASE_URL, { maximumPoolSize: config.DATABASE_POOL_SIZE });
    const temporal = await connectTemporalClient(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE);
    try {
      const schedule = await ensureMaintenanceSchedule(temporal.client, SAGA_TASK_QUEUE);
      context.logger.info({ schedule }, 'maintenance schedule in place');
    } finally {
      await temporal.connection.close();
    }
    return startWorker(
      {
        address: config.TEMPORAL_ADDRESS,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: SAGA_TASK_QUEUE,
        workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
        activities: {
          ...createSmokeActivities({ workerName: 'saga-worker' }),
          ...createMaintenanceActivities({ pool }),
        },
        closeAfter: () => pool.end(),
      },
      context,
    );
  },
});
