// Handlers of the counter routes: commands go to the counter service; reads come from the
// projector's read model, optionally waiting for a version the client just wrote.
import { readCounterSummary } from '../services/read-models/counters.read-model.ts';
import type { CounterCommands } from '../services/counter/counter.commands.ts';
import type { CounterCommand } from '../services/counter/counter.domain.ts';
import type { DatabasePool } from '../services/kernel/database.ts';
import type { PgListener } from '../runtime/pg-listener.ts';
import type { RouteHandlers, RouteInput, RouteOf, RouteOutcome } from './api.router.ts';

/** How long a read with ?minVersion waits for the projection before answering with what it has. */
export const MIN_VERSION_WAIT_MS = 2_000;

type ChangeRoute = RouteOf<'incrementCounter' | 'decrementCounter' | 'resetCounter'>;

export function counterHandlers(deps: {
  pool: DatabasePool;
  counters: CounterCommands;
  /** Wakes `minVersion` reads when a projection batch commits (runtime/pg-listener.ts). */
  projectionApplied: Pick<PgListener, 'generation' | 'waitForChange'>;
  minVersionWaitMs?: number;
}): Pick<RouteHandlers, 'getCounter' | 'incrementCounter' | 'decrementCounter' | 'resetCounter'> {
  const change = async (
    input: RouteInput<ChangeRoute>,
    command: CounterCommand,
  ): Promise<RouteOutcome<ChangeRoute>> => {
    const result = await deps.counters.execute({
      ...input.params,
      command,
      ...(input.expectedVersion !== undefined ? { expectedVersion: input.expectedVersion } : {}),
      idempotencyKey: input.idempotencyKey,
      metadata: { correlationId: input.requestId, actor: input.principal.userId },
    });
    return { status: 200, body: result.response, version: result.response.version, replayed: result.replayed };
  };

  return {
    getCounter: async (input) => {
      const { minVersion } = input.query;
      const deadline = Date.now() + (deps.minVersionWaitMs ?? MIN_VERSION_WAIT_MS);
      // Read, and while the version is not there yet, sleep until the projection commits a batch.
      let since = deps.projectionApplied.generation;
      let view = await readCounterSummary(deps.pool, input.params);
      while (minVersion !== undefined && view.version < minVersion && Date.now() < deadline) {
        await deps.projectionApplied.waitForChange(since, deadline - Date.now());
        since = deps.projectionApplied.generation;
        view = await readCounterSummary(deps.pool, input.params);
      }
      const headers =
        minVersion === undefined ? undefined : { 'X-Min-Version-Met': String(view.version >= minVersion) };
      if (input.ifNoneMatch === `"${view.version}"`)
        return { status: 304, version: view.version, ...(headers ? { headers } : {}) };
      return { status: 200, body: view, version: view.version, ...(headers ? { headers } : {}) };
    },
    incrementCounter: (input) => change(input, { type: 'increment', by: input.body.by }),
    decrementCounter: (input) => change(input, { type: 'decrement', by: input.body.by }),
    resetCounter: (input) => change(input, { type: 'reset' }),
  };
}
