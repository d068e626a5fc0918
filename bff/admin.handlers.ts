// Platform-admin operations: start a projection rebuild (the same workflow `npm run rebuild` starts).
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { PROJECTION_NAMES } from '../services/read-models/projections.ts';
import { TASK_QUEUES, WORKFLOW_IDS } from '../contracts/workflow-names.ts';
import { rebuildProjection } from '../workflows/projections/rebuild-projection.workflow.ts';
import type { RouteHandlers } from './api.router.ts';
import { HttpProblem } from './problem.ts';

export function adminHandlers(deps: { temporal: Client }): Pick<RouteHandlers, 'rebuildProjection'> {
  return {
    rebuildProjection: async (input) => {
      const { projection } = input.params;
      if (!PROJECTION_NAMES.includes(projection)) {
        throw new HttpProblem(
          'NOT_FOUND',
          `no projection named ${projection}; there are: ${PROJECTION_NAMES.join(', ')}`,
        );
      }
      const workflowId = WORKFLOW_IDS.rebuild(projection);
      await deps.temporal.workflow.start(rebuildProjection, {
        workflowId,
        taskQueue: TASK_QUEUES.projector,
        args: [{ projection }],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      });
      return { status: 202, body: { projection, workflowId } };
    },
  };
}
