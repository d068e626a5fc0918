// Composition root of the saga worker: polls task queue `tenant-sagas`.
import { fileURLToPath } from 'node:url';
import { logEnv, temporalEnv } from '../runtime/config.ts';
import { defineDeployable } from '../runtime/deployable.ts';
import { startWorker } from '../runtime/worker.ts';
import { createSmokeActivities } from '../activities/smoke/smoke.activities.ts';

export const SAGA_TASK_QUEUE = 'tenant-sagas';

export const sagaWorker = defineDeployable({
  name: 'saga-worker',
  config: logEnv.extend(temporalEnv.shape),
  async start(config, context) {
    return startWorker(
      {
        address: config.TEMPORAL_ADDRESS,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: SAGA_TASK_QUEUE,
        workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
        activities: createSmokeActivities({ workerName: 'saga-worker' }),
      },
      context,
    );
  },
});
