// Upcasters: how a stored event of an older schemaVersion becomes a payload of the current one.
// Events are never rewritten: those of an old version stay in the outbox and on the stream, so when
// a breaking change bumps a contract's schemaVersion (the compatibility gate, contracts/compatibility.ts,
// insists on it), the old payload schema moves here, frozen as it was, with a pure function to the
// next version. Consumers read every event through `upcast` and parse it with the current contract.
import type { z } from 'zod';
import { EVENT_CONTRACTS, type EventContract } from './events.ts';

/** One step of an event's history: its payload at `fromVersion` → its payload at `fromVersion + 1`. */
export interface Upcaster {
  aggregateType: string;
  eventType: string;
  fromVersion: number;
  /** The payload schema of `fromVersion`: generates its committed JSON Schema, checks the input. */
  from: z.ZodType;
  /** The payload schema of `fromVersion + 1`: the contract's when that is current, else the next step's `from`. */
  to: z.ZodType;
  /** `from` parsed, the function applied, `to` parsed: a payload that does not fit either side throws. */
  apply(payload: unknown): unknown;
}

/**
 * Declares an upcaster; `up` is typed by the two schemas and must be pure.
 * @example defineUpcaster({ aggregateType: 'counter', eventType: 'CounterReset', fromVersion: 1,
 *   from: counterResetV1, to: counterEvents.CounterReset.payload, up: (v1) => ({ ...v1, reason: 'unknown' }) })
 */
export function defineUpcaster<From extends z.ZodType, To extends z.ZodType>(step: {
  aggregateType: string;
  eventType: string;
  fromVersion: number;
  from: From;
  to: To;
  up: (payload: z.output<From>) => z.input<To>;
}): Upcaster {
  const { up, ...rest } = step;
  return { ...rest, apply: (payload) => step.to.parse(up(step.from.parse(payload))) };
}

/** Every upcaster of every event (none yet: every contract is at its first version). */
export const UPCASTERS: Upcaster[] = [];

/** Every event version this code reads: the current contracts and the version each upcaster reads. */
export function eventVersions(contracts: readonly EventContract[], upcasters: readonly Upcaster[]): EventContract[] {
  return [
    ...contracts,
    ...upcasters.map(({ aggregateType, eventType, fromVersion, from }) => ({
      aggregateType,
      eventType,
      schemaVersion: fromVersion,
      payload: from,
    })),
  ];
}

const key = (aggregateType: string, eventType: string) => `${aggregateType}/${eventType}`;

/** `upcast` over the given contracts and upcasters (tests pass their own). */
export function upcastWith(contracts: readonly EventContract[], upcasters: readonly Upcaster[]) {
  const current = new Map(contracts.map((c) => [key(c.aggregateType, c.eventType), c]));
  const steps = new Map(upcasters.map((u) => [`${key(u.aggregateType, u.eventType)}/v${u.fromVersion}`, u]));
  return (aggregateType: string, eventType: string, schemaVersion: number, payload: unknown) => {
    const contract = current.get(key(aggregateType, eventType));
    if (!contract) throw new Error(`no contract for ${aggregateType} event ${eventType}`);
    if (schemaVersion > contract.schemaVersion) {
      throw new Error(
        `${eventType} v${schemaVersion} is newer than the contract this code has (v${contract.schemaVersion})`,
      );
    }
    let version = schemaVersion;
    let body = payload;
    while (version < contract.schemaVersion) {
      const step = steps.get(`${key(aggregateType, eventType)}/v${version}`);
      if (!step) throw new Error(`${eventType} v${version} has no upcaster to v${version + 1}`);
      body = step.apply(body);
      version++;
    }
    return { schemaVersion: version, payload: body };
  };
}

/**
 * A stored event's payload at its contract's current schemaVersion, through the chain of upcasters.
 * At the current version the payload is returned as stored: the caller parses it with the contract.
 */
export const upcast = upcastWith(EVENT_CONTRACTS, UPCASTERS);
