// How every workflow here calls its activities: the options of each proxyActivities, in one place.
// The retry policies have no attempt limit where the activity classifies its own failures
// (runtime/failures.ts): a business failure arrives non-retryable, an unexpected one becomes
// non-retryable after a few attempts, and only an unavailable Postgres, NATS or Temporal keeps
// being retried, with capped backoff, for as long as the policy allows (README "Reliability").
import type { ActivityOptions } from '@temporalio/common';

/** Capped exponential backoff: 0.5 s, 1 s, 2 s, … then every 15 s. */
const BACKOFF = { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '15 seconds' } as const;

/** How long (ms) a saga step waits out an unavailable dependency before the saga compensates, unless its input says otherwise: 1 hour. */
export const DEFAULT_RETRY_HORIZON_MS = 60 * 60_000;

export const ACTIVITY_OPTIONS = {
  /** A saga step before the pivot: an outage is waited out for `horizonMs`, then the step fails and the saga compensates. */
  sagaStep: (horizonMs: number): ActivityOptions => ({
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: horizonMs,
    retry: BACKOFF,
  }),
  /** A compensation, or a step past the pivot: no horizon, an outage is waited out however long it lasts. */
  untilDone: { startToCloseTimeout: '30 seconds', retry: BACKOFF } satisfies ActivityOptions,
  /** The relay's and projector's long loops: heartbeats detect a dead worker; retried without end. */
  pipelineLoop: (heartbeatSeconds: number): ActivityOptions => ({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: heartbeatSeconds * 1000,
    retry: BACKOFF,
  }),
  /** The one-batch activities of histories recorded before the loops (replay only). */
  pipelineBatch: (heartbeatSeconds: number): ActivityOptions => ({
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: heartbeatSeconds * 1000,
    retry: BACKOFF,
  }),
  /** Rebuild steps: ten attempts (about 8 minutes of backoff), then the rebuild fails and can be started again. */
  rebuildStep: { startToCloseTimeout: '5 minutes', retry: { initialInterval: '1 second', maximumAttempts: 10 } },
  rebuildReplay: {
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumAttempts: 10 },
  },
  /** Hourly maintenance: five attempts; the next hour's run tries again. */
  maintenance: { startToCloseTimeout: '5 minutes', retry: { initialInterval: '10 seconds', maximumAttempts: 5 } },
  /** The smoke round trip: three quick attempts. */
  smoke: { startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3 } },
} as const satisfies Record<string, ActivityOptions | ((value: number) => ActivityOptions)>;
