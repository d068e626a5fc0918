// Every deployable by name: the all-in-one root runs any set of them, and the platform model's
// checks read their config schemas (platform/checks.ts).
import { bff } from '../bff/bff.deployable.ts';
import { projector } from '../projector/projector.deployable.ts';
import { relay } from '../relay/relay.deployable.ts';
import type { Deployable, DeployableName } from '../runtime/deployable.ts';
import { sagaWorker } from '../saga-worker/saga-worker.deployable.ts';

export const DEPLOYABLES: Record<DeployableName, Deployable> = {
  bff,
  'saga-worker': sagaWorker,
  relay,
  projector,
};
