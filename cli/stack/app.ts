// The deployables as detached processes, shaped by a topology of the platform model: single-vps
// (one all-in-one process, the default), kubernetes (one process per deployable), split-workers.
import { join } from 'node:path';
import { natsUrl } from './nats.ts';
import { openFgaEnv } from './openfga.ts';
import { spawnDetached, StackError, tail } from './processes.ts';
import { localStackModel, repoRoot, type ServerEndpoints, type StackSettings } from './settings.ts';
import { httpOk, taskQueuePollers } from './temporal.ts';
import { TASK_QUEUES } from '../../contracts/workflow-names.ts';

/** The workers `up` waits for: the task queue each polls and its health port in the settings. */
export const WORKER_QUEUES = [
  { key: 'sagaWorker', deployable: 'saga-worker', taskQueue: TASK_QUEUES.sagas, kind: 'workflow', port: 'sagaWorker' },
  { key: 'relayWorker', deployable: 'relay', taskQueue: TASK_QUEUES.relay, kind: 'workflow', port: 'relay' },
  {
    key: 'projectorWorker',
    deployable: 'projector',
    taskQueue: TASK_QUEUES.projector,
    kind: 'workflow',
    port: 'projector',
  },
] as const;

/** A worker's health endpoints (its /readyz is ready when it polls and reaches its servers). */
export const workerUrl = (settings: StackSettings, worker: (typeof WORKER_QUEUES)[number]) =>
  `http://127.0.0.1:${settings.ports[worker.port]}`;

/** How `up` runs the deployables: compiled, as production does, or the TypeScript sources through tsx. */
export type AppMode = 'compiled' | 'dev';

/** What identifies an app process in /proc/<pid>/cmdline, in both modes. */
export const APP_MARKER = 'all-in-one.main.';

/** The processes of a topology of the platform model; a readable error for an unknown one. */
export function topologyProcesses(name: string): { name: string; deployables: string[] }[] {
  const { topologies } = localStackModel();
  const processes = topologies[name];
  if (!processes) {
    throw new StackError(`no topology ${name} in the platform model; choose ${Object.keys(topologies).join(', ')}`);
  }
  return processes;
}

/** Starts one process of a topology: the given deployables in one all-in-one process, detached. */
export function startApp(
  settings: StackSettings,
  endpoints: ServerEndpoints,
  jwksFile: string,
  mode: AppMode,
  process: { name: string; deployables: string[] },
): number {
  const entry =
    mode === 'compiled'
      ? [join(repoRoot, 'dist', 'all-in-one', 'all-in-one.main.js')]
      : ['--import', 'tsx', join(repoRoot, 'all-in-one', 'all-in-one.main.ts')];
  return spawnDetached(globalThis.process.execPath, entry, {
    cwd: repoRoot,
    // The log lines go to a rotated file (LOG_FILE, runtime/logger.ts); stdout and stderr, to a small
    // file of their own, keep only what bypasses the logger (a crash before it, Node's warnings).
    logFile: join(settings.paths.logs, `${process.name}.out`),
    env: {
      ...globalThis.process.env,
      // The local environment of the platform model (FAULT_INJECTION enabled: the local stack is for development).
      ...localStackModel().config,
      NODE_ENV: mode === 'compiled' ? 'production' : 'development',
      DATABASE_URL: endpoints.serviceDatabaseUrl,
      // Each process its own NATS user, with the permissions of its deployables; servers given by env as they are.
      NATS_URL: settings.external.natsUrl ? endpoints.natsUrl : natsUrl(settings, process.name),
      TEMPORAL_ADDRESS: endpoints.temporalAddress,
      TEMPORAL_NAMESPACE: endpoints.temporalNamespace,
      ...openFgaEnv(endpoints.openfga),
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoints.traces.otlpEndpoint,
      BFF_HOST: '127.0.0.1',
      BFF_PORT: String(settings.ports.bff),
      SAGA_WORKER_HTTP_PORT: String(settings.ports.sagaWorker),
      RELAY_HTTP_PORT: String(settings.ports.relay),
      PROJECTOR_HTTP_PORT: String(settings.ports.projector),
      DEPLOYABLES: process.deployables.join(','),
      AUTH_JWKS_FILE: jwksFile,
      LOG_FILE: join(settings.paths.logs, `${process.name}.log`),
    },
  });
}

/** What keeps the deployables from being ready: a /readyz that does not answer 200, a task queue no one polls. */
export async function appProblems(settings: StackSettings, endpoints: ServerEndpoints): Promise<string[]> {
  const checks = [
    { name: 'bff', url: `http://127.0.0.1:${settings.ports.bff}` },
    ...WORKER_QUEUES.map((w) => ({ name: w.deployable, url: workerUrl(settings, w) })),
  ];
  const ready = await Promise.all(checks.map((c) => httpOk(`${c.url}/readyz`)));
  const pollers = await Promise.all(
    WORKER_QUEUES.map((w) =>
      taskQueuePollers(endpoints.temporalAddress, endpoints.temporalNamespace, w.taskQueue, w.kind).catch(() => 0),
    ),
  );
  return [
    ...checks.filter((_, i) => !ready[i]).map((c) => `${c.name}: ${c.url}/readyz is not 200`),
    ...WORKER_QUEUES.filter((_, i) => !(pollers[i]! > 0)).map((w) => `no worker polls task queue ${w.taskQueue}`),
  ];
}

/** The last lines an app process wrote: its newest rotated log file (`<name>.<n>.log`) and its stdout/stderr. */
export function appLogTail(settings: StackSettings, name: string): string {
  return [tail(join(settings.paths.logs, `${name}.log`)), tail(join(settings.paths.logs, `${name}.out`), 6)].join('\n');
}

/** Ready when the /readyz of the BFF and of every worker answers 200 and every worker polls its task queue. */
export async function appHealthy(settings: StackSettings, endpoints: ServerEndpoints): Promise<boolean> {
  return (await appProblems(settings, endpoints)).length === 0;
}
