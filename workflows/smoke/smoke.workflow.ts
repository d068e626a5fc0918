// The smallest real workflow: an optional durable timer, then one activity round trip. It proves a
// worker and a server work together (tests, `npm run up`'s e2e check) and shows the
// proxyActivities shape every workflow here uses (its options from workflows/retry-policy.ts).
import type { Duration } from '@temporalio/common';
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { SmokeActivities } from '../../activities/smoke/smoke.activities.ts';
import { ACTIVITY_OPTIONS } from '../retry-policy.ts';

const { echo } = proxyActivities<SmokeActivities>(ACTIVITY_OPTIONS.smoke);

export async function smokeWorkflow(message: string, delay: Duration = 0): Promise<string> {
  if (delay !== 0) await sleep(delay);
  return `workflow saw: ${await echo(message)}`;
}
