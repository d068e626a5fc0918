// Entry point: the outbox relay worker alone.
import { runDeployables } from '../runtime/deployable.ts';
import { relay } from './relay.deployable.ts';

await runDeployables([relay], process.env);
