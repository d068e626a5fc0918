// The deployables of the all-in-one topology as one detached process.
import { join } from 'node:path';
import { spawnDetached } from './processes.ts';
import { repoRoot, type ServerEndpoints, type StackSettings } from './settings.ts';
import { httpOk, taskQueuePollers } from './temporal.ts';
import { TASK_QUEUES } from '../../contracts/workflow-names.ts';

/** The workers `up` waits for, by the task queue each polls. */
export const WORKER_QUEUES = [
  { key: 'sagaWorker', taskQueue: TASK_QUEUES.sagas, kind: 'workflow' },
  { key: 'relayWorker', taskQueue: TASK_QUEUES.relay, kind: 'workflow' },
  { key: 'projectorWorker', taskQueue: TASK_QUEUES.projector, kind: 'workflow' },
] as const;

export function startApp(settings: StackSettings, endpoints: ServerEndpoints, jwksFile: string): number {
  return spawnDetached(process.execPath, ['--import', 'tsx', join(repoRoot, 'all-in-one', 'all-in-one.main.ts')], {
    cwd: repoRoot,
    logFile: join(settings.paths.logs, 'app.log'),
    env: {
      ...process.env,
      DATABASE_URL: endpoints.databaseUrl,
      NATS_URL: endpoints.natsUrl,
      TEMPORAL_ADDRESS: endpoints.temporalAddress,
      TEMPORAL_NAMESPACE: endpoints.temporalNamespace,
      BFF_HOST: '127.0.0.1',
      BFF_PORT: String(settings.ports.bff),
      DEPLOYABLES: 'bff,saga-worker,relay,projector',
      AUTH_JWKS_FILE: jwksFile,
      FAULT_INJECTION: 'enabled', // the local stack is for development: armed faults may fire
    },
  });
}

/** Ready when the BFF's /readyz answers 200 and every worker polls its task queue. */
export async function appHealthy(bffUrl: string, endpoints: ServerEndpoints): Promise<boolean> {
  if (!(await httpOk(`${bffUrl}/readyz`))) return false;
  const pollers = await Promise.all(
    WORKER_QUEUES.map((w) =>
      taskQueuePollers(endpoints.temporalAddress, endpoints.temporalNamespace, w.taskQueue, w.kind),
    ),
  );
  return pollers.every((count) => count > 0);
}
