// The facts about the code that the model is checked against, read from the code itself: the
// exported workflows, each deployable's real config schema, the search attributes, the task queues.
import { DEPLOYABLES } from '../all-in-one/deployables.ts';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../contracts/workflow-names.ts';
import * as allWorkflows from '../workflows/index.ts';
import type { CodeFacts } from './checks.ts';

export function codeFacts(): CodeFacts {
  return {
    exportedWorkflows: Object.entries(allWorkflows)
      .filter(([, value]) => typeof value === 'function')
      .map(([name]) => name)
      .sort(),
    configSchemas: Object.fromEntries(Object.entries(DEPLOYABLES).map(([name, d]) => [name, d.config])),
    searchAttributes: SEARCH_ATTRIBUTES.map((key) => key.name),
    taskQueues: Object.values(TASK_QUEUES),
  };
}
