// Composition root of the outbox relay: Postgres (outbox) → NATS JetStream, as a Temporal worker on
// `outbox-relay` running the single `outbox-relay` workflow, which it starts if it is not running.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { WorkflowIdConflictPolicy } from '@temporalio/client';
import { z } from 'zod';
import { TASK_QUEUES, WORKFLOW_IDS } from '../contracts/workflow-names.ts';
import { databaseEnv, healthEnv, httpHost, httpPort, logEnv, natsEnv, temporalEnv } from '../runtime/config.ts';
import { connectNats, connectTemporalClient } from '../runtime/connections.ts';
import { defineDeployable } from '../runtime/deployable.ts';
import { natsCheck, postgresCheck } from '../runtime/health.ts';
import { createPgListener } from '../runtime/pg-listener.ts';
import { startWorker } from '../runtime/worker.ts';
import { createDatabasePool } from '../services/kernel/database.ts';
import { ensureEventsStream, eventsStreamEnv } from '../runtime/events-stream.ts';
import { outboxRelay } from '../workflows/outbox-relay/outbox-relay.workflow.ts';
import { createRelayActivities, jetStreamPublish } from './relay.activities.ts';

export const relay = defineDeployable({
  name: 'relay',
  config: logEnv
    .extend(databaseEnv.shape)
    .extend(natsEnv.shape)
    .extend(temporalEnv.shape)
    .extend(healthEnv.shape)
    .extend(eventsStreamEnv.shape)
    .extend({
      RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(5_000).default(500),
      /** How long one loop activity publishes before it reports to the workflow (seconds, fractions allowed). */
      RELAY_LOOP_SECONDS: z.coerce.number().min(0.1).max(600).default(60),
      /** Loops per workflow run before continue-as-new; applies when the relay workflow is first started. */
      RELAY_LOOPS_PER_RUN: z.coerce.number().int().min(1).max(1_000).default(500),
      RELAY_HTTP_HOST: httpHost,
      RELAY_HTTP_PORT: httpPort(3002),
    }),
  async start(config, context) {
    const stream = { name: config.EVENTS_STREAM, subjectPrefix: config.EVENTS_SUBJECT_PREFIX };
    const pool = await createDatabasePool(config.DATABASE_URL, { maximumPoolSize: config.DATABASE_POOL_SIZE });
    const nats = await connectNats(config.NATS_URL, 'relay');
    const jsm = await jetstreamManager(nats);
    await ensureEventsStream(jsm, stream);
    const listener = createPgListener(config.DATABASE_URL, 'event_outbox', context.logger);
    const worker = await startWorker(
      {
        address: config.TEMPORAL_ADDRESS,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: TASK_QUEUES.relay,
        workflows: true,
        http: { host: config.RELAY_HTTP_HOST, port: config.RELAY_HTTP_PORT, portFile: config.HEALTH_PORT_FILE },
        checks: { postgres: postgresCheck(pool), nats: natsCheck(nats) },
        activities: createRelayActivities({
          pool,
          jsm,
          stream,
          publish: jetStreamPublish(jetstream(nats), context.tracing.tracer),
          listener,
        }),
        closeAfter: async () => {
          await listener.close();
          await nats.drain();
          await pool.end();
        },
      },
      context,
    );
    const temporal = await connectTemporalClient(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE);
    try {
      await temporal.client.workflow.start(outboxRelay, {
        workflowId: WORKFLOW_IDS.relay,
        taskQueue: TASK_QUEUES.relay,
        args: [
          {
            batchSize: config.RELAY_BATCH_SIZE,
            loopMs: config.RELAY_LOOP_SECONDS * 1_000,
            loopsPerRun: config.RELAY_LOOPS_PER_RUN,
          },
        ],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      });
    } finally {
      await temporal.connection.close();
    }
    return worker;
  },
});
