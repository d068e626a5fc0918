// A workflow's event history in the JSON form the SDK replays: the output of
// `temporal workflow show --output json`, the export every Temporal tool reads, which
// `historyFromJSON` / `Worker.runReplayHistory` accept.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';

/** The SDK version that wrote a fixture; it is part of every fixture's file name. */
export const SDK_VERSION: string = (
  JSON.parse(readFileSync(new URL('../node_modules/@temporalio/workflow/package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

export interface TemporalTarget {
  client: Client;
  /** The `temporal` CLI binary. */
  cliPath: string;
  address: string;
  namespace: string;
}

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
export async function exportHistory(
  target: TemporalTarget,
  workflowId: string,
  runId?: string,
): Promise<ExportedHistory> {
  const description = await target.client.workflow.getHandle(workflowId, runId).describe();
  const json = execFileSync(
    target.cliPath,
    [
      'workflow',
      'show',
      '--workflow-id',
      workflowId,
      '--run-id',
      description.runId,
      '--output',
      'json',
      '--address',
      target.address,
      '--namespace',
      target.namespace,
    ],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  const events = (JSON.parse(json) as { events?: unknown[] }).events?.length ?? 0;
  return {
    workflowId,
    runId: description.runId,
    workflowType: description.type,
    status: description.status.name,
    events,
    json,
  };
}
