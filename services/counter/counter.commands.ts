// Counter commands: load → decide → CAS write + outbox event + idempotency record, one transaction.
import { COUNTER_AGGREGATE, counterEvents } from '../../contracts/counter.events.ts';
import type { CounterChangeResponse } from '../../contracts/counter.contracts.ts';
import { runCommand, type CommandResult } from '../kernel/command.ts';
import type { DatabasePool } from '../kernel/database.ts';
import { versionConflict } from '../kernel/errors.ts';
import type { EventMetadata } from '../kernel/outbox.ts';
import { decide, evolve, type CounterCommand } from './counter.domain.ts';
import { assertCounterQuota, counterWrite, loadCounterForWrite, type CounterKey } from './counter.store.ts';

export interface CounterCommandInput extends CounterKey {
  command: CounterCommand;
  /** The caller's expected version (If-Match). Without it, conflicts are retried internally. */
  expectedVersion?: number;
  /** The request's Idempotency-Key, scoped by tenant, caller (`metadata.actor`) and operation. */
  idempotencyKey?: string;
  metadata: EventMetadata;
}

export function createCounterCommands(deps: { pool: DatabasePool }) {
  return {
    async execute(input: CounterCommandInput): Promise<CommandResult<CounterChangeResponse>> {
      const operation = `counter.${input.command.type}`;
      return runCommand(deps.pool, {
        aggregate: { tenantId: input.tenantId, type: COUNTER_AGGREGATE, id: input.counterId },
        explicitVersion: input.expectedVersion !== undefined,
        ...(input.idempotencyKey
          ? {
              idempotency: {
                scope: {
                  tenantId: input.tenantId,
                  caller: input.metadata.actor ?? '',
                  operation,
                  key: input.idempotencyKey,
                },
                request: { counterId: input.counterId, command: input.command, expectedVersion: input.expectedVersion },
              },
            }
          : {}),
        async execute(tx, commit) {
          const state = await loadCounterForWrite(tx, input);
          if (state.version === 0) await assertCounterQuota(tx, input.tenantId);
          if (input.expectedVersion !== undefined && input.expectedVersion !== state.version) {
            throw versionConflict(input.expectedVersion, state.version);
          }
          const event = decide(state, input.command);
          const next = evolve(state, event);
          return commit({
            cas: counterWrite(input, state.version, next),
            events: [
              {
                tenantId: input.tenantId,
                aggregateType: COUNTER_AGGREGATE,
                aggregateId: input.counterId,
                aggregateVersion: next.version,
                eventType: event.type,
                schemaVersion: counterEvents[event.type].schemaVersion,
                payload: event.payload,
                metadata: {
                  ...input.metadata,
                  ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : {}),
                },
              },
            ],
            respond: ([eventId]) => ({
              tenantId: input.tenantId,
              counterId: input.counterId,
              value: next.value,
              version: next.version,
              eventId: eventId!,
            }),
          });
        },
      });
    },
  };
}

export type CounterCommands = ReturnType<typeof createCounterCommands>;
