// Composition root of the saga worker: polls task queue `tenant-sagas` (tenant onboarding and its
// activities), and keeps the maintenance schedule in place.
import { jetstreamManager } from '@nats-io/jetstream';
import { z } from 'zod';
import { createMaintenanceActivities } from '../activities/maintenance/maintenance.activities.ts';
import { createSmokeActivities } from '../activities/smoke/smoke.activities.ts';
import { createOnboardingActivities } from '../activities/tenant-onboarding/onboarding.activities.ts';
import { TASK_QUEUES } from '../contracts/workflow-names.ts';
import { databaseEnv, healthEnv, httpHost, httpPort, logEnv, natsEnv, temporalEnv } from '../runtime/config.ts';
import { authzEnv, createAuthz } from '../runtime/authz.ts';
import { connectNats, connectTemporalClient } from '../runtime/connections.ts';
import { defineDeployable } from '../runtime/deployable.ts';
import { natsCheck, postgresCheck } from '../runtime/health.ts';
import { startWorker } from '../runtime/worker.ts';
import { createDatabasePool } from '../services/kernel/database.ts';
import { createTenantService } from '../services/tenant/tenant.commands.ts';
import { ensureMaintenanceSchedule } from './maintenance-schedule.ts';

export const sagaWorker = defineDeployable({
  name: 'saga-worker',
  config: logEnv
    .extend(databaseEnv.shape)
    .extend(natsEnv.shape)
    .extend(temporalEnv.shape)
    .extend(authzEnv.shape)
    .extend(healthEnv.shape)
    .extend({
      /** Dev and test only: lets armed faults fire at saga steps (services/tenant/faults.ts). Off unless set to "enabled". */
      FAULT_INJECTION: z.enum(['enabled', 'disabled']).default('disabled'),
      /** The platform model's environment this runs in (set by the generated values and the local stack). */
      DEPLOY_ENVIRONMENT: z.string().min(1).optional(),
      SAGA_WORKER_HTTP_HOST: httpHost,
      SAGA_WORKER_HTTP_PORT: httpPort(3001),
    })
    .refine(
      (c) =>
        c.FAULT_INJECTION !== 'enabled' ||
        (c.DEPLOY_ENVIRONMENT !== undefined && c.DEPLOY_ENVIRONMENT !== 'production'),
      {
        message:
          'fault injection is for the local stack and tests: it is refused in production and where DEPLOY_ENVIRONMENT is not set',
        path: ['FAULT_INJECTION'],
      },
    ),
  async start(config, context) {
    const pool = await createDatabasePool(config.DATABASE_URL, { maximumPoolSize: config.DATABASE_POOL_SIZE });
    if (config.FAULT_INJECTION === 'enabled') {
      // The faults table appears when a fault is first armed (`fault arm`, as the owner role); the
      // app role may not create tables, and a step finds no fault while it is absent.
      context.logger.warn(
        { environment: config.DEPLOY_ENVIRONMENT },
        'fault injection is on: armed faults fire at saga steps',
      );
    }
    const nats = await connectNats(config.NATS_URL, 'saga-worker');
    const temporal = await connectTemporalClient(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE);
    try {
      const schedule = await ensureMaintenanceSchedule(temporal.client, TASK_QUEUES.sagas);
      context.logger.info({ schedule }, 'maintenance schedule in place');
    } finally {
      await temporal.connection.close();
    }
    return startWorker(
      {
        address: config.TEMPORAL_ADDRESS,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: TASK_QUEUES.sagas,
        workflows: true,
        http: {
          host: config.SAGA_WORKER_HTTP_HOST,
          port: config.SAGA_WORKER_HTTP_PORT,
          portFile: config.HEALTH_PORT_FILE,
        },
        checks: { postgres: postgresCheck(pool), nats: natsCheck(nats) },
        activities: {
          ...createSmokeActivities({ workerName: 'saga-worker' }),
          ...createMaintenanceActivities({ pool }),
          ...createOnboardingActivities({
            pool,
            tenants: createTenantService({ pool }),
            jsm: await jetstreamManager(nats),
            authz: createAuthz(config),
            faultsEnabled: config.FAULT_INJECTION === 'enabled',
          }),
        },
        closeAfter: async () => {
          await nats.drain();
          await pool.end();
        },
      },
      context,
    );
  },
});
