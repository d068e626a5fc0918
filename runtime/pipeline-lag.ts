// How far the relay and each projection are behind the outbox, in events and seconds, and the
// service level they are held to. Read by /metrics (gauges) and `npm run status`.
import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { loadCheckpoint, outboxLag } from '../services/kernel/outbox.ts';
import { countDeadLetters } from '../services/read-models/dead-letters.ts';
import { loadProjectionCheckpoint } from '../services/read-models/projections.ts';
import { isNotFound, RELAY_READER, type EventsStream } from './events-stream.ts';

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
  // No stream yet (nothing was ever published) is a backlog of zero; any other failure is raised.
  const info = await jsm.streams.info(stream.name).catch((error: unknown): StreamInfo | undefined => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
  const lastSequence = info?.state.last_seq ?? 0;
  const result: PipelineLag = { relay, projections: {}, deadLetters: await countDeadLetters(db) };
  for (const projection of projections) {
    const checkpoint = await loadProjectionCheckpoint(db, projection);
    const backlog = Math.max(0, lastSequence - checkpoint);
    let seconds = relay.seconds;
    if (backlog > 0) {
      // null when the message is gone (limits retention): then the relay's age is the best estimate.
      const next = await jsm.streams.getMessage(stream.name, { seq: checkpoint + 1 });
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
