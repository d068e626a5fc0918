// What the test run (`npm test`, cli/test-run.ts) hands to the suites: the test stack's endpoints.
import { z } from 'zod';
import { parseEnv } from '../../runtime/config.ts';

const testEnv = z.object({
  DATABASE_URL: z.string().min(1),
  NATS_URL: z.string().min(1),
  NATS_MONITOR_URL: z.string().min(1).optional(),
  TEMPORAL_ADDRESS: z.string().min(1),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_CLI_PATH: z.string().min(1),
  TEMPORAL_TEST_SERVER_PATH: z.string().min(1),
  CHROMIUM_PATH: z.string().min(1),
  TEMPORAL_UI_URL: z.string().url(),
  AUTH_JWKS_FILE: z.string().min(1),
  DEV_PRIVATE_JWK_FILE: z.string().min(1),
  OPENFGA_API_URL: z.string().url(),
  OPENFGA_STORE_ID: z.string().min(1),
  OPENFGA_API_TOKEN: z.string().min(1).optional(),
  /** The test stack's trace collector (its Jaeger, unless the run was given another). */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url(),
});

/** The test stack's endpoints; fails with a readable message when a suite runs outside `npm test`. */
export function testStack() {
  return parseEnv(testEnv, process.env, 'the test suites (run them through `npm test`, which provides these)');
}

/** The OpenFGA variables the test stack gives a BFF or saga worker the tests start. */
export function openFgaTestEnv(): Record<string, string> {
  const stack = testStack();
  return {
    OPENFGA_API_URL: stack.OPENFGA_API_URL,
    OPENFGA_STORE_ID: stack.OPENFGA_STORE_ID,
    ...(stack.OPENFGA_API_TOKEN ? { OPENFGA_API_TOKEN: stack.OPENFGA_API_TOKEN } : {}),
  };
}
