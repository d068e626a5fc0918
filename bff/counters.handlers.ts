// Handlers of the counter routes: HTTP input → counter service → outcome.
import type { z } from 'zod';
import type { counterChangeBody, counterPath } from '../contracts/counter.contracts.ts';
import type { CounterCommands } from '../services/counter/counter.commands.ts';
import type { CounterCommand } from '../services/counter/counter.domain.ts';
import { getCounter } from '../services/counter/counter.queries.ts';
import type { DatabasePool } from '../services/kernel/database.ts';
import type { RouteHandler, RouteInput } from './api.router.ts';

type CounterPath = z.infer<typeof counterPath>;
type ChangeBody = z.infer<typeof counterChangeBody>;

export function counterHandlers(deps: { pool: DatabasePool; counters: CounterCommands }): Record<string, RouteHandler> {
  const change =
    (toCommand: (input: RouteInput) => CounterCommand): RouteHandler =>
    async (input) => {
      const path = input.params as CounterPath;
      const result = await deps.counters.execute({
        ...path,
        command: toCommand(input),
        ...(input.expectedVersion !== undefined ? { expectedVersion: input.expectedVersion } : {}),
        ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : {}),
        metadata: { correlationId: input.requestId, actor: input.principal.userId },
      });
      return { status: 200, body: result.response, version: result.response.version, replayed: result.replayed };
    };

  return {
    getCounter: async (input) => {
      const view = await getCounter(deps.pool, input.params as CounterPath);
      if (input.ifNoneMatch === `"${view.version}"`) return { status: 304, version: view.version };
      return { status: 200, body: view, version: view.version };
    },
    incrementCounter: change((input) => ({ type: 'increment', by: (input.body as ChangeBody).by })),
    decrementCounter: change((input) => ({ type: 'decrement', by: (input.body as ChangeBody).by })),
    resetCounter: change(() => ({ type: 'reset' })),
  };
}
