import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ConfigError, databaseEnv, parseEnv, temporalEnv } from './config.ts';

describe('config: zod over env with readable errors', () => {
  const schema = databaseEnv.extend(temporalEnv.shape);

  it('parses a valid environment and applies defaults', () => {
    const config = parseEnv(
      schema,
      { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/app', TEMPORAL_ADDRESS: '127.0.0.1:7233' },
      'test',
    );
    assert.equal(config.TEMPORAL_NAMESPACE, 'default');
    assert.equal(config.DATABASE_POOL_SIZE, 10);
  });

  it('names every bad variable and what is wrong with it, in one message', () => {
    assert.throws(
      () => parseEnv(schema, { DATABASE_URL: 'mysql://x', DATABASE_POOL_SIZE: 'lots' }, 'the bff'),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /^invalid configuration for the bff:/);
        assert.match(error.message, /- DATABASE_URL: must be a postgres:\/\/ URL/);
        assert.match(error.message, /- DATABASE_POOL_SIZE: /);
        assert.match(error.message, /- TEMPORAL_ADDRESS: is required/);
        return true;
      },
    );
  });
});
