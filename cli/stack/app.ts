// The deployables of the all-in-one topology as one detached process.
import { join } from 'node:path';
import { spawnDetached } from './processes.ts';
import { repoRoot, type ServerEndpoints, type StackSettings } from './settings.ts';
import { httpOk, taskQueuePollers } from './temporal.ts';
import { TASK_QUEUES } from '../../contracts/workflow-names.ts';

/** The workers `up` waits for: the task queue each polls and its health port in the settings. */
export const WORKER_QUEUES = [
  { key: 'sagaWorker', taskQueue: TASK_QUEUES.sagas, kind: 'workflow', port: 'sagaWorker' },
  { key: 'relayWorker', taskQueue: TASK_QUEUES.relay, kind: 'workflow', port: 'relay' },
  { key: 'projectorWorker', taskQueue: TASK_QUEUES.projector, kind: 'workflow', port: 'projector' },
] as const;

/** A worker's health endpoints (its /readyz is ready when it polls and reaches its servers). */
export const workerUrl = (settings: StackSettings, worker: (typeof WORKER_QUEUES)[number]) =>
  `http://127.0.0.1:${settings.ports[worker.port]}`;

/** How `up` runs the deployables: compiled, as production does, or the TypeScript sources through tsx. */
export type AppMode = 'compiled' | 'dev';

/** What identifies the app process in /proc/<pid>/cmdline, in both modes. */
export const APP_MARKER = 'all-in-one.main.';

export function startApp(settings: StackSettings, endpoints: ServerEndpoints, jwksFile: string, mode: AppMode): number {
  const entry =
    mode === 'compiled'
      ? [join(repoRoot, 'dist', 'all-in-one', 'all-in-one.main.js')]
      : ['--import', 'tsx', join(repoRoot, 'all-in-one', 'all-in-one.main.ts')];
  return spawnDetached(process.execPath, entry, {
    cwd: repoRoot,
    logFile: join(settings.paths.logs, 'app.log'),
    env: {
      ...process.env,
      NODE_ENV: mode === 'compiled' ? 'production' : 'development',
      DATABASE_URL: endpoints.databaseUrl,
      NATS_URL: endpoints.natsUrl,
      TEMPORAL_ADDRESS: endpoints.temporalAddress,
      TEMPORAL_NAMESPACE: endpoints.temporalNamespace,
      BFF_HOST: '127.0.0.1',
      BFF_PORT: String(settings.ports.bff),
      SAGA_WORKER_HTTP_PORT: String(settings.ports.sagaWorker),
      RELAY_HTTP_PORT: String(settings.ports.relay),
      PROJECTOR_HTTP_PORT: String(settings.ports.projector),
      DEPLOYABLES: 'bff,saga-worker,relay,projector',
      AUTH_JWKS_FILE: jwksFile,
      FAULT_INJECTION: 'enabled', // the local stack is for development: armed faults may fire
    },
  });
}

/** Ready when the /readyz of the BFF and of every worker answers 200 and every worker polls its task queue. */
export async function appHealthy(settings: StackSettings, endpoints: ServerEndpoints): Promise<boolean> {
  const urls = [`http://127.0.0.1:${settings.ports.bff}`, ...WORKER_QUEUES.map((w) => workerUrl(settings, w))];
  if (!(await Promise.all(urls.map((url) => httpOk(`${url}/readyz`)))).every(Boolean)) return false;
  const pollers = await Promise.all(
    WORKER_QUEUES.map((w) =>
      taskQueuePollers(endpoints.temporalAddress, endpoints.temporalNamespace, w.taskQueue, w.kind),
    ),
  );
  return pollers.every((count) => count > 0);
}
