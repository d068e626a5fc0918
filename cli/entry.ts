// How the project's command-line entries end: a known failure prints what failed and what to do
// (no stack trace) and exits 1; anything else prints its stack. Used by cli/main.ts and the bench.
import { ConfigError } from '../runtime/config.ts';
import { AgentFileError } from './gates/agent-files.ts';
import { StackError } from './stack/processes.ts';
import { loadStackSettings, type Profile, type StackSettings } from './stack/settings.ts';

export type Say = (line: string) => void;

export const say: Say = (line) => process.stderr.write(`${line}\n`);

/** The stack a command talks to: the test stack with `--test`, else the dev stack. */
export function settingsFor(args: string[]): StackSettings {
  const profile: Profile = args.includes('--test') ? 'test' : 'dev';
  return loadStackSettings(profile, process.env);
}

/** Runs a command's main function and sets the exit code from its result or its failure. */
export async function runEntry(main: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main();
  } catch (error) {
    if (error instanceof StackError || error instanceof ConfigError || error instanceof AgentFileError) {
      say(`✗ ${error.message}`);
    } else {
      say(`✗ unexpected failure: ${(error as Error).stack ?? String(error)}`);
    }
    process.exitCode = 1;
  }
}
