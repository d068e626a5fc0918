// A workflow's event history in the JSON form the SDK replays (`historyFromJSON`,
// `Worker.runReplayHistory`), the same form `temporal workflow show --output json` prints. Fetched
// with the SDK's own client, so no CLI binary is needed.
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

/** The SDK version that wrote a fixture; it is part of every fixture's file name. */
export const SDK_VERSION: string = (
  JSON.parse(readFileSync(new URL('../node_modules/@temporalio/workflow/package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

export interface ExportedHistory {
  workflowId: string;
  runId: string;
  workflowType: string;
  status: string;
  events: number;
  /** The history as JSON text, ready to write to a file. */
  json: string;
}

/** The history of `workflowId`'s latest run (or of `runId`), as the SDK replays it. */
export async function exportHistory(client: Client, workflowId: string, runId?: string): Promise<ExportedHistory> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const description = await handle.describe();
  const history = await client.workflow.getHandle(workflowId, description.runId).fetchHistory();
  return {
    workflowId,
    runId: description.runId,
    workflowType: description.type,
    status: description.status.name,
    events: history.events?.length ?? 0,
    json: historyToJSON(history),
  };
}
