// Runs one Temporal worker as part of a deployable, and stops it by draining: shutdown() lets
// in-flight activity and workflow tasks finish before the connection closes.
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Running, StartContext } from './deployable.ts';

export interface WorkerSpec {
  address: string;
  namespace: string;
  taskQueue: string;
  workflowsPath?: string;
  activities?: WorkerOptions['activities'];
  /** Closed after the worker drains (pools, NATS connections the activities use). */
  closeAfter?: () => Promise<void>;
}

export async function startWorker(spec: WorkerSpec, context: StartContext): Promise<Running> {
  const connection = await NativeConnection.connect({ address: spec.address });
  const worker = await Worker.create({
    connection,
    namespace: spec.namespace,
    taskQueue: spec.taskQueue,
    ...(spec.workflowsPath ? { workflowsPath: spec.workflowsPath } : {}),
    ...(spec.activities ? { activities: spec.activities } : {}),
  });
  const runUntilShutdown = worker.run();
  runUntilShutdown.catch((error: unknown) => context.fail(error));
  context.logger.info({ taskQueue: spec.taskQueue }, 'worker polling');
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await runUntilShutdown.catch(() => undefined);
      await connection.close();
      await spec.closeAfter?.();
    },
  };
}
