// The real BFF deployable, started in-process against the test stack, plus dev tokens for it.
import { pino } from 'pino';
import { bff, bffConfig } from '../../bff/bff.deployable.ts';
import { sagaWorker } from '../../saga-worker/saga-worker.deployable.ts';
import { mintDevToken, type TokenRequest } from '../../cli/dev-auth.ts';
import { freeLoopbackPort, type DeployableName, type Running, type StartContext } from '../../runtime/deployable.ts';
import { startTracing, tracingEnv } from '../../runtime/tracing.ts';
import { openFgaTestEnv, testStack } from './env.ts';

export interface TestBff {
  base: string;
  stop(): Promise<void>;
}

/** The start context of an in-process deployable: silent, untraced, and a failure throws. */
export function testStartContext(name: DeployableName): StartContext {
  return {
    logger: pino({ level: 'silent' }),
    tracing: startTracing(tracingEnv.parse({}), [name]).of(name),
    fail: (error) => {
      throw error;
    },
  };
}

/** A free port on 127.0.0.1 (the one the deployables use to pick the Temporal core's metrics port). */
export const freePort = freeLoopbackPort;

/** Starts the BFF on `databaseUrl` (default: the test stack's database) on a free port. */
export async function startTestBff(
  databaseUrl?: string,
  port?: number,
  extraEnv: Record<string, string> = {},
): Promise<TestBff> {
  const stack = testStack();
  const chosenPort = port ?? (await freePort());
  const config = bffConfig.parse({
    LOG_LEVEL: 'silent',
    DATABASE_URL: databaseUrl ?? stack.DATABASE_URL,
    NATS_URL: stack.NATS_URL,
    TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS,
    AUTH_JWKS_FILE: stack.AUTH_JWKS_FILE,
    ...openFgaTestEnv(),
    BFF_PORT: String(chosenPort),
    ...extraEnv,
  });
  const running: Running = await bff.start(config, testStartContext('bff'));
  return { base: `http://127.0.0.1:${chosenPort}`, stop: () => running.stop() };
}

/** The saga worker deployable in-process on `databaseUrl`: runs the sagas and membership workflows the BFF starts. */
export async function startTestSagaWorker(databaseUrl: string): Promise<Running> {
  const stack = testStack();
  const config = sagaWorker.config.parse({
    LOG_LEVEL: 'silent',
    DATABASE_URL: databaseUrl,
    NATS_URL: stack.NATS_URL,
    TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS,
    ...openFgaTestEnv(),
    SAGA_WORKER_HTTP_PORT: '0',
  });
  return sagaWorker.start(config, testStartContext('saga-worker'));
}

export async function devToken(request: Partial<TokenRequest> = {}): Promise<string> {
  const stack = testStack();
  return mintDevToken(
    { privateJwk: stack.DEV_PRIVATE_JWK_FILE, jwks: stack.AUTH_JWKS_FILE },
    {
      user: request.user ?? 'test-user',
      roles: request.roles ?? [],
      expiresIn: request.expiresIn ?? '10m',
    },
  );
}
