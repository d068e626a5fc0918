// `npm run --silent history -- export <workflowId> [--run-id <id>] [--out <file>] [--test]`: a
// workflow's history in the JSON form the SDK replays (for replay fixtures and offline debugging).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { WorkflowNotFoundError } from '@temporalio/client';
import { connectTemporalClient } from '../runtime/connections.ts';
import { exportHistory } from './history-export.ts';
import type { StackSettings } from './stack/settings.ts';
import { temporalAddress } from './stack/temporal.ts';

const USAGE = `usage: npm run --silent history -- export <workflowId> [--run-id <id>] [--out <file>] [--test]
  Prints (or writes to --out) the history of the workflow's latest run, or of --run-id, as JSON
  that Worker.runReplayHistory accepts. Example: npm run --silent history -- export tenant-onboarding/t0123 --out onboarding.json`;

export async function runHistoryCommand(
  args: string[],
  settings: StackSettings,
  say: (line: string) => void,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { 'run-id': { type: 'string' }, out: { type: 'string' }, test: { type: 'boolean' } },
      strict: true,
    });
  } catch (error) {
    say(`✗ ${(error as Error).message}\n${USAGE}`);
    return 64;
  }
  const [action, workflowId, ...extra] = parsed.positionals;
  if (action !== 'export' || !workflowId || extra.length > 0) {
    say(USAGE);
    return action === undefined ? 0 : 64;
  }
  const address = temporalAddress(settings);
  const { client, connection } = await connectTemporalClient(address, settings.temporalNamespace);
  try {
    const exported = await exportHistory(client, workflowId, parsed.values['run-id']);
    if (parsed.values.out) {
      writeFileSync(parsed.values.out, exported.json);
      say(
        `✓ ${exported.workflowType} ${workflowId} run ${exported.runId} (${exported.status}, ${exported.events} events) → ${parsed.values.out}`,
      );
    } else {
      process.stdout.write(exported.json);
    }
    return 0;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      say(
        `✗ no workflow ${workflowId}${parsed.values['run-id'] ? ` with run ${parsed.values['run-id']}` : ''} in namespace ${settings.temporalNamespace}`,
      );
      return 1;
    }
    throw error;
  } finally {
    await connection.close();
  }
}
