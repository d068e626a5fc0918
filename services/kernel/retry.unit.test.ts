import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { backoffDelay, retryWithBackoff } from './retry.ts';

describe('retry with bounded exponential backoff and jitter', () => {
  const policy = { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 40 };

  it('caps the delay and spreads it over [0, ceiling]', () => {
    assert.equal(
      backoffDelay(policy, 1, () => 0.999),
      9,
    );
    assert.equal(
      backoffDelay(policy, 3, () => 0.999),
      39,
    );
    assert.equal(
      backoffDelay(policy, 10, () => 0.999),
      39,
      'never above maxDelayMs',
    );
    assert.equal(
      backoffDelay(policy, 3, () => 0),
      0,
    );
  });

  it('retries only retryable errors, at most maxAttempts times, then rethrows the last', async () => {
    let calls = 0;
    await assert.rejects(
      retryWithBackoff(
        policy,
        () => true,
        async (attempt) => {
          calls++;
          throw new Error(`attempt ${attempt}`);
        },
      ),
      /attempt 4/,
    );
    assert.equal(calls, 4);
    calls = 0;
    await assert.rejects(
      retryWithBackoff(
        policy,
        () => false,
        async () => {
          calls++;
          throw new Error('final');
        },
      ),
      /final/,
    );
    assert.equal(calls, 1);
  });
});
