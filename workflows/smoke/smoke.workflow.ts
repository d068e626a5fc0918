// The smallest real workflow: one activity round trip. Used to prove a worker and a server work
// together (tests, `npm run up`'s checks). It stays a plain example of the proxyActivities shape.
import { proxyActivities } from '@temporalio/workflow';
import type { SmokeActivities } from '../../activities/smoke/smoke.activities.ts';

const { echo } = proxyActivities<SmokeActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

export async function smokeWorkflow(message: string): Promise<string> {
  return `workflow saw: ${await echo(message)}`;
}
