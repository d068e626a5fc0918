// The counter aggregate's rules, as pure functions: decide (state, command) → event, and
// evolve (state, event) → state. No I/O.
import type { CounterEvent } from '../../contracts/counter.events.ts';
import { DomainError } from '../kernel/errors.ts';

export interface CounterState {
  value: number;
  version: number;
}

/** A counter nobody has written yet. */
export const NEW_COUNTER: CounterState = { value: 0, version: 0 };

/** The lowest value a counter may reach. */
export const COUNTER_FLOOR = 0;

export type CounterCommand = { type: 'increment'; by: number } | { type: 'decrement'; by: number } | { type: 'reset' };

export function decide(state: CounterState, command: CounterCommand): CounterEvent {
  const version = state.version + 1;
  switch (command.type) {
    case 'increment': {
      const value = state.value + command.by;
      if (!Number.isSafeInteger(value)) {
        throw new DomainError(
          'VALIDATION_FAILED',
          `incrementing by ${command.by} would exceed the largest counter value`,
        );
      }
      return { type: 'CounterIncremented', payload: { by: command.by, value, version } };
    }
    case 'decrement': {
      const value = state.value - command.by;
      if (value < COUNTER_FLOOR) {
        throw new DomainError(
          'COUNTER_FLOOR_REACHED',
          `cannot decrement ${state.value} by ${command.by}: counters stop at ${COUNTER_FLOOR}`,
          { value: state.value, floor: COUNTER_FLOOR },
        );
      }
      return { type: 'CounterDecremented', payload: { by: command.by, value, version } };
    }
    case 'reset':
      return { type: 'CounterReset', payload: { by: state.value, value: 0, version } };
  }
}

export function evolve(_state: CounterState, event: CounterEvent): CounterState {
  return { value: event.payload.value, version: event.payload.version };
}
