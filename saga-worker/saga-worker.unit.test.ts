// The saga worker's config refuses fault injection outside the local stack and tests.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { sagaWorker } from './saga-worker.deployable.ts';

const base = {
  DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/app',
  NATS_URL: 'nats://127.0.0.1:4222',
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
  OPENFGA_API_URL: 'http://127.0.0.1:8080',
  OPENFGA_STORE_ID: '01JSTORE',
};

describe('saga worker config: fault injection', () => {
  it('is refused in production and where the environment is not named', () => {
    for (const environment of [{ DEPLOY_ENVIRONMENT: 'production' }, {}]) {
      const parsed = sagaWorker.config.safeParse({ ...base, ...environment, FAULT_INJECTION: 'enabled' });
      assert.equal(parsed.success, false, JSON.stringify(environment));
      assert.match(
        String(parsed.error?.issues[0]?.message),
        /refused in production and where DEPLOY_ENVIRONMENT is not set/,
      );
    }
  });

  it('is allowed in a named non-production environment, and off by default everywhere', () => {
    assert.equal(
      sagaWorker.config.safeParse({ ...base, DEPLOY_ENVIRONMENT: 'local', FAULT_INJECTION: 'enabled' }).success,
      true,
    );
    const production = sagaWorker.config.parse({ ...base, DEPLOY_ENVIRONMENT: 'production' });
    assert.equal(production.FAULT_INJECTION, 'disabled');
  });
});
