// `npm test`: every gate of agent/gates.yml (format, typecheck, lint, boundaries, codemap, contracts
// drift, then the test tiers unit → integration → workflow → e2e) against the test stack, ending
// with the table of results. `npm test -- <files>` runs only those mocha files, still on the stack.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Say } from './entry.ts';
import { loadAgentFiles } from './gates/agent-files.ts';
import { report, runGates } from './gates/gates-command.ts';
import { repoRoot } from './stack/settings.ts';
import { withTestStack } from './test-stack.ts';

export async function runTests(args: string[], env: NodeJS.ProcessEnv, say: Say): Promise<number> {
  const started = Date.now();
  const agent = loadAgentFiles(repoRoot);
  return withTestStack(env, say, (testEnv) => {
    if (args.length > 0) {
      const mocha = spawnSync(join(repoRoot, 'node_modules', '.bin', 'mocha'), args, {
        cwd: repoRoot,
        env: testEnv,
        stdio: 'inherit',
      });
      return mocha.status ?? 1;
    }
    const run = runGates(agent, Object.keys(agent.gates.gates), testEnv, say);
    return report(run, say, Math.round((Date.now() - started) / 1000)) ? 0 : 1;
  });
}
