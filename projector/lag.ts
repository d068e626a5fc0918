// How far the relay and each projection are behind the outbox, in events and seconds, and the
// service level they are held to. Read by /metrics (gauges) and `npm run status`.
import type { JetStreamManager } from '@nats-io/jetstream';
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { loadCheckpoint, outboxLag } from '../services/kernel/outbox.ts';
import type { EventsStream } from '../relay/events-stream.ts';
import { RELAY_READER } from '../relay/relay.activities.ts';
import { countDeadLetters } from './dead-letters.ts';
import { loadProjectionCheckpoint } from './projector.activities.ts';

export interface Lag {
  events: number;
  seconds: number;
}

export interface PipelineLag {
  relay: Lag;
  projections: Record<string, Lag>;
  deadLetters: Record<string, number>;
}

/**
 * The SLO: an event committed to the outbox is published within 5 s and visible in every read
 * model within 10 s. Measured as the age of the oldest event not yet published / projected.
 */
export const LAG_SLO = { relaySeconds: 5, projectionSeconds: 10 } as const;

const occurredAtOf = z.object({ occurredAt: z.number() });

export async function measureLag(
  db: CommonQueryMethods,
  jsm: JetStreamManager,
  stream: EventsStream,
  projections: string[],
): Promise<PipelineLag> {
  const relay = await outboxLag(db, await loadCheckpoint(db, RELAY_READER));
  const info = await jsm.streams.info(stream.name).catch(() => undefined);
  const lastSequence = info?.state.last_seq ?? 0;
  const result: PipelineLag = { relay, projections: {}, deadLetters: await countDeadLetters(db) };
  for (const projection of projections) {
    const checkpoint = await loadProjectionCheckpoint(db, projection);
    const backlog = Math.max(0, lastSequence - checkpoint);
    let seconds = relay.seconds;
    if (backlog > 0) {
      const next = await jsm.streams.getMessage(stream.name, { seq: checkpoint + 1 }).catch(() => undefined);
      const parsed = occurredAtOf.safeParse(next?.json());
      if (parsed.success) seconds = Math.max(seconds, (Date.now() - parsed.data.occurredAt) / 1000);
    }
    result.projections[projection] = { events: relay.events + backlog, seconds };
  }
  return result;
}

/** Human-readable SLO breaches; empty when within the SLO. */
export function sloBreaches(lag: PipelineLag): string[] {
  const breaches: string[] = [];
  if (lag.relay.seconds > LAG_SLO.relaySeconds) {
    breaches.push(
      `relay is ${lag.relay.seconds.toFixed(1)} s behind the outbox (SLO ${LAG_SLO.relaySeconds} s, ${lag.relay.events} events waiting)`,
    );
  }
  for (const [name, projection] of Object.entries(lag.projections)) {
    if (projection.seconds > LAG_SLO.projectionSeconds) {
      breaches.push(
        `projection ${name} is ${projection.seconds.toFixed(1)} s behind (SLO ${LAG_SLO.projectionSeconds} s, ${projection.events} events)`,
      );
    }
  }
  return breaches;
}
