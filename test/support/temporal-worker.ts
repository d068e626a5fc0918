// A real Temporal worker on the test stack's dev server, on a task queue of its own, for workflow
// tests that run real activities.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { testStack } from './env.ts';

export interface RunningTestWorker {
  client: Client;
  taskQueue: string;
  stop(): Promise<void>;
}

export async function startTestWorker(
  activities: WorkerOptions['activities'],
  prefix = 'test',
): Promise<RunningTestWorker> {
  const { TEMPORAL_ADDRESS } = testStack();
  const taskQueue = `${prefix}-${randomUUID()}`;
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  const workerConnection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('../../workflows/index.ts', import.meta.url)),
    activities,
  });
  const running = worker.run();
  return {
    client: new Client({ connection }),
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
      await workerConnection.close();
      await connection.close();
    },
  };
}
