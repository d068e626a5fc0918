// `npm test`: every gate of agent/gates.yml (format, typecheck, lint, boundaries, codemap, contracts
// drift, then the test tiers unit → integration → workflow → e2e) against the test stack, ending
// with the table of results. `npm test -- <files>` runs only those mocha files, still on the stack.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Say } from './entry.ts';
import { loadAgentFiles } from './gates/agent-files.ts';
import { report, runGates } from './gates/gates-command.ts';
import { loadStackSettings, repoRoot } from './stack/settings.ts';
import { withTestStack } from './test-stack.ts';

/**
 * Builds the pinned tools in the background while the first tiers run (they are needed only by the
 * deployment tier, at the end), at low priority; its log is tools-prefetch.log in the state folder.
 */
function prefetchTools(stateDir: string, say: Say): void {
  mkdirSync(join(stateDir, 'logs'), { recursive: true });
  const log = join(stateDir, 'logs', 'tools-prefetch.log');
  const child = spawn('nice', ['-n', '15', process.execPath, join(repoRoot, 'tools', 'bootstrap.mjs'), 'tools'], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')],
  });
  child.unref();
  say(`• building the pinned deployment tools in the background (log: ${log})`);
}

export async function runTests(args: string[], env: NodeJS.ProcessEnv, say: Say): Promise<number> {
  const started = Date.now();
  const agent = loadAgentFiles(repoRoot);
  if (args.length === 0) prefetchTools(loadStackSettings('test', env).stateDir, say);
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
