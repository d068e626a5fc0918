// The smallest real Temporal worker, the bench's floor for a worker's memory: plain node, a
// prebuilt bundle of one trivial workflow, no activities. Env: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// TASK_QUEUE, BUNDLE (path of the bundle's code). Prints "polling" once it polls; SIGTERM drains.
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
const worker = await Worker.create({
  connection,
  namespace: process.env.TEMPORAL_NAMESPACE,
  taskQueue: process.env.TASK_QUEUE,
  workflowBundle: { codePath: process.env.BUNDLE },
});
process.on('SIGTERM', () => worker.shutdown());
const running = worker.run();
process.stdout.write('polling\n');
await running;
await connection.close();
