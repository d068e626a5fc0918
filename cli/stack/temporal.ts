// The Temporal dev server (SQLite file in the state folder, Web UI on) and its search attributes.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import protos from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../../contracts/workflow-names.ts';
import { LOG_ROTATION } from '../../runtime/logger.ts';
import { spawnDetached } from './processes.ts';
import type { StackSettings } from './settings.ts';

// @temporalio/proto is CommonJS; its namespaces come through the default export under ESM.
const { grpc, temporal } = protos;

export function temporalAddress(settings: StackSettings): string {
  return settings.external.temporalAddress ?? `127.0.0.1:${settings.ports.temporal}`;
}

export function temporalUiUrl(settings: StackSettings): string {
  return `http://127.0.0.1:${settings.ports.temporalUi}`;
}

export function startTemporal(settings: StackSettings, binary: string): number {
  mkdirSync(settings.paths.temporal, { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(settings.ports.temporal),
    '--ui-port',
    String(settings.ports.temporalUi),
    '--db-filename',
    join(settings.paths.temporal, 'temporal.db'),
    '--namespace',
    settings.temporalNamespace,
    '--log-level',
    'warn',
  ];
  return spawnDetached(binary, args, { logFile: join(settings.paths.logs, 'temporal.log'), rotation: LOG_ROTATION });
}

async function withConnection<T>(address: string, use: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    return await use(connection);
  } finally {
    await connection.close();
  }
}

export async function temporalHealthy(address: string): Promise<boolean> {
  try {
    return await withConnection(address, async (connection) => {
      const { status } = await connection.healthService.check({});
      return status === grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING;
    });
  } catch {
    return false;
  }
}

export async function httpOk(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(3_000) })).ok;
  } catch {
    return false;
  }
}

/** Registers the sagas' custom search attributes where missing (idempotent; works on any Temporal server). */
export async function ensureSearchAttributes(address: string, namespace: string): Promise<string[]> {
  return withConnection(address, async (connection) => {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    // Every custom attribute the sagas upsert is a keyword (contracts/workflow-names.ts).
    const missing = SEARCH_ATTRIBUTES.map((key) => key.name).filter((name) => !(name in (customAttributes ?? {})));
    if (missing.length > 0) {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(
          missing.map((name) => [name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
        ),
      });
    }
    return missing;
  });
}

/** Number of workers polling a task queue (workflow or activity side), or 0 when none or unreachable. */
export async function taskQueuePollers(
  address: string,
  namespace: string,
  taskQueue: string,
  kind: 'workflow' | 'activity',
): Promise<number> {
  try {
    return await withConnection(address, async (connection) => {
      const response = await connection.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue },
        taskQueueType:
          kind === 'workflow'
            ? temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
            : temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      });
      return response.pollers?.length ?? 0;
    });
  } catch {
    return 0;
  }
}
