// Entry point: the saga worker alone.
import { runDeployables } from '../runtime/deployable.ts';
import { sagaWorker } from './saga-worker.deployable.ts';

await runDeployables([sagaWorker], process.env);
