// The relay and projector running as a child process (the all-in-one entry with just those two)
// against a test database and a stream of its own, plus the checks that the read models equal the
// fold of the outbox and that JetStream holds each event once.
import { randomUUID } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Connection, WorkflowNotFoundError, Client } from '@temporalio/client';
import { sql } from 'slonik';
import { z } from 'zod';
import { connectNats, type NatsConnection } from '../../runtime/connections.ts';
import type { DatabasePool } from '../../services/kernel/database.ts';
import type { OutboxEvent } from '../../services/kernel/outbox.ts';
import { testStack } from './env.ts';
import { startEntry, until, type Started } from './processes.ts';

export interface Pipeline {
  stream: string;
  subjectPrefix: string;
  /** Starts (or restarts) the relay+projector process. */
  start(): Promise<void>;
  /** SIGKILL, no goodbye. */
  kill(): Promise<void>;
  stop(): Promise<void>;
  jsm: JetStreamManager;
  process(): Started | undefined;
}

/** `settings` adds deployable config, e.g. `RELAY_LOOPS_PER_RUN` for a quick continue-as-new. */
export async function createPipeline(databaseUrl: string, settings: NodeJS.ProcessEnv = {}): Promise<Pipeline> {
  const suffix = randomUUID().slice(0, 8);
  const stream = `EVENTS_T${suffix}`;
  const subjectPrefix = `ev${suffix}`;
  const nats: NatsConnection = await connectNats(testStack().NATS_URL, 'pipeline-test');
  const jsm = await jetstreamManager(nats);
  let current: Started | undefined;
  const env = (): NodeJS.ProcessEnv => {
    const stack = testStack();
    return {
      PATH: process.env.PATH,
      LOG_LEVEL: 'info',
      DATABASE_URL: databaseUrl,
      NATS_URL: stack.NATS_URL,
      TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS,
      EVENTS_STREAM: stream,
      EVENTS_SUBJECT_PREFIX: subjectPrefix,
      ...settings,
    };
  };
  const terminateWorkflows = async () => {
    const connection = await Connection.connect({ address: testStack().TEMPORAL_ADDRESS });
    try {
      const client = new Client({ connection });
      for (const id of [
        'outbox-relay',
        'projection/counters',
        'projection/tenants',
        'rebuild/counters',
        'rebuild/tenants',
      ]) {
        await client.workflow
          .getHandle(id)
          .terminate('test finished')
          .catch((error: unknown) => {
            if (!(error instanceof WorkflowNotFoundError)) throw error;
          });
      }
    } finally {
      await connection.close();
    }
  };
  // Each suite gets fresh relay/projection workflows; earlier suites' runs must not carry over.
  await terminateWorkflows();
  return {
    stream,
    subjectPrefix,
    jsm,
    process: () => current,
    async start() {
      const started = startEntry('all-in-one/all-in-one.main.ts', env(), ['relay', 'projector']);
      current = started;
      await until(
        'relay and projector started',
        async () => {
          if (started.child.exitCode !== null) throw new Error(`relay/projector exited: ${started.output()}`);
          return (started.output().match(/"msg":"started"/g) ?? []).length >= 2;
        },
        90_000,
      );
    },
    async kill() {
      if (!current || current.child.exitCode !== null) return;
      current.child.kill('SIGKILL');
      await current.exited;
    },
    async stop() {
      if (current && current.child.exitCode === null) {
        current.child.kill('SIGTERM');
        await current.exited;
      }
      await terminateWorkflows();
      await jsm.streams.delete(stream).catch(() => undefined);
      await nats.drain();
    },
  };
}

const summary = z.object({
  tenantId: z.string(),
  counterId: z.string(),
  value: z.coerce.number(),
  version: z.coerce.number(),
});
const activity = z.object({
  tenantId: z.string(),
  counters: z.coerce.number(),
  increments: z.coerce.number(),
  decrements: z.coerce.number(),
  resets: z.coerce.number(),
  events: z.coerce.number(),
});

/** The read models as they are, and as the fold of the outbox says they must be. */
export async function readModelsAndFold(pool: DatabasePool) {
  const actualSummary = await pool.any(sql.type(summary)`
    select tenant_id as "tenantId", counter_id as "counterId", value, version from rm_counter_summary order by 1, 2`);
  const foldSummary = await pool.any(sql.type(summary)`
    select distinct on (tenant_id, aggregate_id) tenant_id as "tenantId", aggregate_id as "counterId",
           (payload->>'value')::bigint as value, aggregate_version as version
    from event_outbox where aggregate_type = 'counter'
    order by tenant_id, aggregate_id, aggregate_version desc`);
  const actualActivity = await pool.any(sql.type(activity)`
    select tenant_id as "tenantId", counters, increments, decrements, resets, events from rm_tenant_activity order by 1`);
  const foldActivity = await pool.any(sql.type(activity)`
    select tenant_id as "tenantId", count(distinct aggregate_id) as counters,
           count(*) filter (where event_type = 'CounterIncremented') as increments,
           count(*) filter (where event_type = 'CounterDecremented') as decrements,
           count(*) filter (where event_type = 'CounterReset') as resets,
           count(*) as events
    from event_outbox where aggregate_type = 'counter' group by tenant_id order by 1`);
  return {
    actual: { summary: actualSummary, activity: actualActivity },
    fold: { summary: foldSummary, activity: foldActivity },
  };
}

/** Waits until the read models equal the fold of the outbox. */
export async function converged(pool: DatabasePool, timeoutMs: number): Promise<void> {
  await until(
    'read models to equal the fold of the outbox',
    async () => {
      const { actual, fold } = await readModelsAndFold(pool);
      return JSON.stringify(actual) === JSON.stringify(fold);
    },
    timeoutMs,
  );
}

/** Every Nats-Msg-Id stored in the stream (one per stored message). */
export async function storedMessageIds(jsm: JetStreamManager, stream: string): Promise<string[]> {
  const info = await jsm.streams.info(stream);
  const ids: string[] = [];
  if (info.state.messages === 0) return ids;
  for (let from = info.state.first_seq; from <= info.state.last_seq; from += 200) {
    const seqs = Array.from({ length: Math.min(200, info.state.last_seq - from + 1) }, (_, i) => from + i);
    const messages = await Promise.all(
      seqs.map((seq) => jsm.streams.getMessage(stream, { seq }).catch(() => undefined)),
    );
    for (const message of messages) {
      const id = message?.header?.get('Nats-Msg-Id');
      if (id) ids.push(id);
    }
  }
  return ids;
}

export { until };

/** Increment number `version` of counter `counterId` (by 1, so value = version), as the relay publishes it. */
export function counterIncremented(tenantId: string, counterId: string, version: number): OutboxEvent {
  return {
    position: String(version),
    txId: String(1000 + version),
    eventId: randomUUID(),
    tenantId,
    aggregateType: 'counter',
    aggregateId: counterId,
    aggregateVersion: version,
    eventType: 'CounterIncremented',
    schemaVersion: 1,
    payload: { by: 1, value: version, version },
    metadata: {},
    occurredAt: Date.now(),
  };
}
