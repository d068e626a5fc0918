// `npm test`: bring up the test stack (separate state folder and ports from `npm run up`), then run
// every gate — typecheck, lint, and mocha over all tiers — and stop what this run started.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureServers, down, type Say } from './stack/stack.ts';
import { readRecord } from './stack/record.ts';
import { loadStackSettings, repoRoot } from './stack/settings.ts';
import { ensureChromium, ensureTemporalCli, ensureTemporalTestServer } from './stack/tools.ts';
import { natsMonitorUrl } from './stack/nats.ts';
import { ensureDevSigningKey } from './dev-auth.ts';

const bin = (name: string) => join(repoRoot, 'node_modules', '.bin', name);

/** Every test tier, in the order they run (docs/architecture.md, "Tests"): no servers, Postgres/NATS, Temporal, full stack. */
const ALL_TIERS = ['**/*.unit.test.ts', '**/*.int.test.ts', '**/*.wf.test.ts', '**/*.e2e.test.ts'];

export async function runTests(args: string[], env: NodeJS.ProcessEnv, say: Say): Promise<number> {
  const settings = loadStackSettings('test', env);
  const runningBefore = readRecord(settings.paths.record);
  say(`• test stack in ${settings.stateDir}`);
  const started = Date.now();
  try {
    const endpoints = await ensureServers(settings, say);
    const keys = await ensureDevSigningKey(settings.paths.secrets);
    const testEnv: NodeJS.ProcessEnv = {
      AUTH_JWKS_FILE: keys.jwks,
      DEV_PRIVATE_JWK_FILE: keys.privateJwk,
      ...env,
      DATABASE_URL: endpoints.databaseUrl,
      NATS_URL: endpoints.natsUrl,
      NATS_MONITOR_URL: natsMonitorUrl(settings),
      TEMPORAL_ADDRESS: endpoints.temporalAddress,
      TEMPORAL_NAMESPACE: endpoints.temporalNamespace,
      TEMPORAL_CLI_PATH: ensureTemporalCli(say),
      TEMPORAL_TEST_SERVER_PATH: ensureTemporalTestServer(say),
      CHROMIUM_PATH: ensureChromium(say),
      TEMPORAL_UI_URL: `http://127.0.0.1:${settings.ports.temporalUi}`,
      LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
    };
    const gates: [string, string, string[]][] =
      args.length > 0
        ? [['mocha', bin('mocha'), args]]
        : [
            ['typecheck', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']],
            ['lint', bin('eslint'), ['--max-warnings=0', '.']],
            [
              'contracts drift',
              process.execPath,
              ['--import', 'tsx', join(repoRoot, 'cli', 'main.ts'), 'contracts', '--check'],
            ],
            ['mocha', bin('mocha'), ALL_TIERS],
          ];
    const failed: string[] = [];
    for (const [name, command, commandArgs] of gates) {
      say(`\n▶ ${name}`);
      const result = spawnSync(command, commandArgs, { cwd: repoRoot, env: testEnv, stdio: 'inherit' });
      if (result.status !== 0) failed.push(name);
    }
    say(
      `\n${failed.length === 0 ? '✓ all gates passed' : `✗ failed: ${failed.join(', ')}`} in ${Math.round((Date.now() - started) / 1000)} s`,
    );
    return failed.length === 0 ? 0 : 1;
  } finally {
    if (env.TEST_KEEP_STACK === '1') {
      say('• TEST_KEEP_STACK=1: leaving the test stack running (stop it with `npm run down -- --test`)');
    } else if (!runningBefore.postgres && !runningBefore.nats && !runningBefore.temporal) {
      await down(settings, say);
    }
  }
}
