// Runs the `temporal` CLI against the test stack's server, as an operator would.
import { execFileSync } from 'node:child_process';
import { testStack } from './env.ts';

/** `temporal <args> --address … --namespace …`; returns stdout, throws with stderr on a non-zero exit. */
export function temporalCli(args: string[]): string {
  const { TEMPORAL_CLI_PATH, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE } = testStack();
  try {
    return execFileSync(
      TEMPORAL_CLI_PATH,
      [...args, '--address', TEMPORAL_ADDRESS, '--namespace', TEMPORAL_NAMESPACE],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`temporal ${args.join(' ')} failed:\n${stderr ?? ''}${stdout ?? ''}`, { cause: error });
  }
}
