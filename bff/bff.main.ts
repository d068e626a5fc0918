// Entry point: the BFF alone (one deployable, one process).
import { runDeployables } from '../runtime/deployable.ts';
import { bff } from './bff.deployable.ts';

await runDeployables([bff], process.env);
