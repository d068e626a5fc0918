import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { DomainError } from '../kernel/errors.ts';
import { decide, evolve, NEW_COUNTER, type CounterCommand, type CounterState } from './counter.domain.ts';

const given = (state: CounterState) => ({
  when: (command: CounterCommand) => {
    const event = decide(state, command);
    return { event, state: evolve(state, event) };
  },
});

describe('counter domain: decide / evolve', () => {
  it('given a new counter, when incremented by 5, then CounterIncremented to 5 at version 1', () => {
    const { event, state } = given(NEW_COUNTER).when({ type: 'increment', by: 5 });
    assert.deepEqual(event, { type: 'CounterIncremented', payload: { by: 5, value: 5, version: 1 } });
    assert.deepEqual(state, { value: 5, version: 1 });
  });

  it('given 5 at version 3, when decremented by 5, then CounterDecremented to 0 at version 4', () => {
    const { event } = given({ value: 5, version: 3 }).when({ type: 'decrement', by: 5 });
    assert.deepEqual(event, { type: 'CounterDecremented', payload: { by: 5, value: 0, version: 4 } });
  });

  it('given 2, when decremented by 3, then COUNTER_FLOOR_REACHED and no event', () => {
    assert.throws(
      () => decide({ value: 2, version: 1 }, { type: 'decrement', by: 3 }),
      (error: unknown) =>
        error instanceof DomainError &&
        error.code === 'COUNTER_FLOOR_REACHED' &&
        /cannot decrement 2 by 3/.test(error.message),
    );
  });

  it('given 7, when reset, then CounterReset records the cleared value and the counter is 0', () => {
    const { event, state } = given({ value: 7, version: 2 }).when({ type: 'reset' });
    assert.deepEqual(event, { type: 'CounterReset', payload: { by: 7, value: 0, version: 3 } });
    assert.deepEqual(state, { value: 0, version: 3 });
  });

  it('refuses an increment past the largest safe integer instead of losing precision', () => {
    assert.throws(
      () => decide({ value: Number.MAX_SAFE_INTEGER - 1, version: 9 }, { type: 'increment', by: 2 }),
      DomainError,
    );
  });
});
