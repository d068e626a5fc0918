// Composition root of the projector: an ordered JetStream consumer per projection, started after the
// projection's checkpoint, feeding read models in Postgres, as a Temporal worker on `projector` running one workflow per projection.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { WorkflowIdConflictPolicy } from '@temporalio/client';
import { z } from 'zod';
import { TASK_QUEUES, WORKFLOW_IDS } from '../contracts/workflow-names.ts';
import { ensureEventsStream, eventsStreamEnv } from '../runtime/events-stream.ts';
import { databaseEnv, healthEnv, httpHost, httpPort, logEnv, natsEnv, temporalEnv } from '../runtime/config.ts';
import { connectNats, connectTemporalClient } from '../runtime/connections.ts';
import { defineDeployable } from '../runtime/deployable.ts';
import { natsCheck, postgresCheck } from '../runtime/health.ts';
import { startWorker } from '../runtime/worker.ts';
import { createDatabasePool } from '../services/kernel/database.ts';
import { PROJECTION_DEFINITIONS, PROJECTIONS } from '../services/read-models/projections.ts';
import { projection } from '../workflows/projections/projection.workflow.ts';
import { createProjectorActivities, removeLegacyConsumers } from './projector.activities.ts';
import { createRebuildActivities } from './rebuild.activities.ts';

export const projector = defineDeployable({
  name: 'projector',
  config: logEnv
    .extend(databaseEnv.shape)
    .extend(natsEnv.shape)
    .extend(temporalEnv.shape)
    .extend(healthEnv.shape)
    .extend(eventsStreamEnv.shape)
    .extend({
      PROJECTOR_BATCH_SIZE: z.coerce.number().int().min(1).max(1_000).default(200),
      /** How long one loop activity applies before it reports to the workflow (seconds, fractions allowed). */
      PROJECTOR_LOOP_SECONDS: z.coerce.number().min(0.1).max(600).default(60),
      /** Loops per workflow run before continue-as-new; applies when a projection workflow is first started. */
      PROJECTOR_LOOPS_PER_RUN: z.coerce.number().int().min(1).max(1_000).default(500),
      PROJECTOR_HTTP_HOST: httpHost,
      PROJECTOR_HTTP_PORT: httpPort(3003),
    }),
  async start(config, context) {
    const stream = { name: config.EVENTS_STREAM, subjectPrefix: config.EVENTS_SUBJECT_PREFIX };
    const pool = await createDatabasePool(config.DATABASE_URL, { maximumPoolSize: config.DATABASE_POOL_SIZE });
    const nats = await connectNats(config.NATS_URL, 'projector');
    const jsm = await jetstreamManager(nats);
    await ensureEventsStream(jsm, stream);
    await removeLegacyConsumers(jsm, stream, Object.keys(PROJECTIONS));
    const worker = await startWorker(
      {
        address: config.TEMPORAL_ADDRESS,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: TASK_QUEUES.projector,
        workflows: true,
        http: { host: config.PROJECTOR_HTTP_HOST, port: config.PROJECTOR_HTTP_PORT, portFile: config.HEALTH_PORT_FILE },
        checks: { postgres: postgresCheck(pool), nats: natsCheck(nats) },
        activities: {
          ...createProjectorActivities({
            pool,
            js: jetstream(nats),
            stream,
            projections: PROJECTIONS,
            onParked: (name) => context.logger.warn({ projection: name }, 'event parked in projection_dead_letters'),
            tracer: context.tracing.tracer,
          }),
          ...createRebuildActivities({ pool, projections: PROJECTION_DEFINITIONS }),
        },
        closeAfter: async () => {
          await nats.drain();
          await pool.end();
        },
      },
      context,
    );
    const temporal = await connectTemporalClient(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE);
    try {
      for (const name of Object.keys(PROJECTIONS)) {
        await temporal.client.workflow.start(projection, {
          workflowId: WORKFLOW_IDS.projection(name),
          taskQueue: TASK_QUEUES.projector,
          args: [
            {
              projection: name,
              batchSize: config.PROJECTOR_BATCH_SIZE,
              loopMs: config.PROJECTOR_LOOP_SECONDS * 1_000,
              loopsPerRun: config.PROJECTOR_LOOPS_PER_RUN,
            },
          ],
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        });
      }
    } finally {
      await temporal.connection.close();
    }
    return worker;
  },
});
