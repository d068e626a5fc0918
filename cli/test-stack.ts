// The test stack (separate state folder and ports from `npm run up`) for whatever needs servers:
// `npm test`, `npm run gates`. Started when it is not running; stopped afterwards unless it was
// running before or TEST_KEEP_STACK=1.
import { ensureDevSigningKey } from './dev-auth.ts';
import type { Say } from './entry.ts';
import { natsMonitorUrl } from './stack/nats.ts';
import { openFgaEnv } from './stack/openfga.ts';
import { readRecord } from './stack/record.ts';
import { loadStackSettings } from './stack/settings.ts';
import { down, ensureServers } from './stack/stack.ts';
import { ensureChromium, ensureTemporalCli, ensureTemporalTestServer } from './stack/tools.ts';

/** Runs `body` with the environment the test tiers read (test/support/env.ts), then stops what it started. */
export async function withTestStack<T>(
  env: NodeJS.ProcessEnv,
  say: Say,
  body: (testEnv: NodeJS.ProcessEnv) => T | Promise<T>,
): Promise<T> {
  const settings = loadStackSettings('test', env);
  const runningBefore = readRecord(settings.paths.record);
  say(`• test stack in ${settings.stateDir}`);
  try {
    const endpoints = await ensureServers(settings, say);
    const keys = await ensureDevSigningKey(settings.paths.secrets);
    return await body({
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
      ...openFgaEnv(endpoints.openfga),
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoints.traces.otlpEndpoint,
      LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
    });
  } finally {
    if (env.TEST_KEEP_STACK === '1') {
      say('• TEST_KEEP_STACK=1: leaving the test stack running (stop it with `npm run down -- --test`)');
    } else if (!runningBefore.postgres && !runningBefore.nats && !runningBefore.temporal) {
      await down(settings, say);
    }
  }
}
