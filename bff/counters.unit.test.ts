// A read with ?minVersion sleeps until the projection commits a batch instead of polling: given
// 200 concurrent readers waiting for a version, when one batch commits, then each reads the read
// model twice (before and after), not once per poll interval.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { DatabasePool } from '../services/kernel/database.ts';
import type { RouteInput } from './api.router.ts';
import { counterHandlers } from './counters.handlers.ts';

/** A projection listener whose notifications the test sends. */
function fakeListener() {
  let generation = 0;
  const waiters = new Set<() => void>();
  return {
    get generation() {
      return generation;
    },
    async waitForChange(since: number, timeoutMs: number) {
      if (generation > since) return true;
      return new Promise<boolean>((resolve) => {
        const wake = () => (clearTimeout(timer), waiters.delete(wake), resolve(true));
        const timer = setTimeout(() => (waiters.delete(wake), resolve(false)), timeoutMs);
        waiters.add(wake);
      });
    },
    notify() {
      generation++;
      for (const wake of [...waiters]) wake();
    },
  };
}

describe('counter reads with ?minVersion', () => {
  it('wake on the projection notification: two reads per waiting request, whatever the wait', async () => {
    let version = 0;
    let reads = 0;
    const pool = {
      maybeOne: async () => {
        reads++;
        return { value: version, version };
      },
    } as unknown as DatabasePool;
    const listener = fakeListener();
    const handlers = counterHandlers({
      pool,
      counters: {} as never,
      projectionApplied: listener,
      minVersionWaitMs: 5_000,
    });
    const input = (i: number) =>
      ({ params: { tenantId: 't', counterId: `c${i}` }, query: { minVersion: 1 } }) as unknown as RouteInput;
    const waiting = Array.from({ length: 200 }, (_, i) => handlers.getCounter(input(i)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(reads, 200, 'one read each, then asleep');
    version = 1;
    listener.notify();
    const answers = await Promise.all(waiting);
    assert.equal(reads, 400);
    for (const answer of answers) assert.deepEqual(answer.headers, { 'X-Min-Version-Met': 'true' });
  });

  it('answers honestly at the deadline when no batch brings the version', async () => {
    let reads = 0;
    const pool = { maybeOne: async () => (reads++, { value: 0, version: 0 }) } as unknown as DatabasePool;
    const handlers = counterHandlers({
      pool,
      counters: {} as never,
      projectionApplied: fakeListener(),
      minVersionWaitMs: 200,
    });
    const started = Date.now();
    const answer = await handlers.getCounter({
      params: { tenantId: 't', counterId: 'c' },
      query: { minVersion: 3 },
    } as unknown as RouteInput);
    assert.ok(Date.now() - started >= 190);
    assert.equal(reads, 2, 'read before the wait and once at the deadline');
    assert.deepEqual(answer.headers, { 'X-Min-Version-Met': 'false' });
  });
});
