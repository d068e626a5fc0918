// Entry point: the projector worker alone.
import { runDeployables } from '../runtime/deployable.ts';
import { projector } from './projector.deployable.ts';

await runDeployables([projector], process.env);
