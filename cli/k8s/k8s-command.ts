// `npm run k8s -- check`: everything the deployment tier proves, as a person runs it — the platform
// model, then the chart, the Flux overlays and their secrets offline, then on a real API server
// with simulated nodes (cli/k8s/*.deploy.test.ts). Tools are built into the machine-wide cache on
// first use (minutes once; see README "Deployment").
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Say } from '../entry.ts';
import { repoRoot } from '../stack/settings.ts';

const USAGE = `usage: npm run k8s -- check
  check   the platform model, helm lint and helm-unittest, strict offline validation of the chart and every
          Flux overlay, SOPS, and a real kube-apiserver: server-side dry-run and helm --wait on simulated nodes`;

export async function runK8sCommand(args: string[], say: Say): Promise<number> {
  const [action] = args;
  if (action !== 'check') {
    say(USAGE);
    return action === undefined ? 0 : 64;
  }
  const steps: [string, string[]][] = [
    ['platform model', [join(repoRoot, 'tools', 'bootstrap.mjs'), 'platform', 'check']],
    ['deployment tier', [join(repoRoot, 'node_modules', 'mocha', 'bin', 'mocha.js'), 'cli/k8s/*.deploy.test.ts']],
  ];
  for (const [what, command] of steps) {
    say(`▶ ${what}`);
    const run = spawnSync(process.execPath, command, { cwd: repoRoot, stdio: 'inherit' });
    if (run.status !== 0) {
      say(`✗ ${what} failed`);
      return 1;
    }
  }
  say('✓ the deployment checks passed');
  return 0;
}
