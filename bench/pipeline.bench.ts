// 2–4 and 6: the event pipeline, measured on the relay and projector deployables running as their own
// processes in the bench sandbox, each against its physical baseline in the same run:
//   relay: outbox → JetStream acked events/s   vs  reading the same rows (same driver) + a raw publish loop
//   freshness: commit → read model visible     vs  JetStream publish → consumer receive
//   rebuild: events/s into fresh tables        vs  a raw gap-free scan of the outbox (same driver)
//   growth: relay and rebuild at 10^4…10^6 outbox rows, with the reader's query plan
import { randomUUID } from 'node:crypto';
import { jetstream, AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { sql } from 'slonik';
import { z } from 'zod';
import { ensureEventsStream, RELAY_READER, subjectOf, type EventsStream } from '../runtime/events-stream.ts';
import { createCounterCommands } from '../services/counter/counter.commands.ts';
import {
  advanceCheckpoint,
  checkpointOf,
  loadCheckpoint,
  OUTBOX_START,
  readOutboxBatch,
  type OutboxCheckpoint,
} from '../services/kernel/outbox.ts';
import { rebuildProjection } from '../workflows/projections/rebuild-projection.workflow.ts';
import { benchTenant, runsOf, type BenchContext } from './context.ts';
import { latencyMeasure, medianOf, row, sleep, waitFor, type Measure, type Row } from './measure.ts';
import { TASK_QUEUES, WORKFLOW_IDS } from '../contracts/workflow-names.ts';

const RELAY_BATCH = 500; // the relay's default batch size (RELAY_BATCH_SIZE)
const REBUILD_BATCH = 1_000; // what the rebuild reads per query (projector/rebuild.activities.ts)
const n = z.object({ n: z.coerce.number() });

/** The stream the JetStream baselines publish to: same settings as the events stream, its own subjects. */
const baselineStream = (ctx: BenchContext): EventsStream => ({
  name: `${ctx.stream.name}_RAW`,
  subjectPrefix: `${ctx.stream.subjectPrefix}raw`,
});

/** Appends `count` counter events in one transaction, as a burst of committed work for the relay. */
async function appendBurst(ctx: BenchContext, tenant: string, count: number): Promise<void> {
  await ctx.pool.query(sql.unsafe`
    insert into event_outbox (event_id, tenant_id, aggregate_type, aggregate_id, aggregate_version, event_type, schema_version, payload, metadata)
    select gen_random_uuid(), ${tenant}, 'counter', 'c' || (g % 100), 1 + g / 100, 'CounterIncremented', 1,
           jsonb_build_object('by', 1, 'value', 1 + g / 100, 'version', 1 + g / 100), jsonb_build_object('actor', 'bench')
    from generate_series(0, ${count - 1}) g`);
}

const position = z.object({ txId: z.string(), position: z.string() });

/** Whether the relay's checkpoint has reached the last event in outbox order. */
export async function relayedUpTo(ctx: BenchContext): Promise<boolean> {
  const head = await ctx.pool.maybeOne(sql.type(position)`
    select tx_id::text as "txId", position::text as position from event_outbox order by event_outbox.tx_id desc, event_outbox.position desc limit 1`);
  if (!head) return true;
  return (
    (await ctx.pool.oneFirst(sql.type(n)`
    select count(*) as n from outbox_checkpoints
    where reader = ${RELAY_READER} and (tx_id, position) >= (${head.txId}::xid8, ${head.position}::bigint)`)) === 1
  );
}

/** Time for the running relay to publish a burst of `count` fresh events (commit → checkpoint past the last). */
async function relayBurst(
  ctx: BenchContext,
  count: number,
): Promise<{ measure: Measure; tenant: string; from: OutboxCheckpoint }> {
  await ctx.deployable('relay');
  await waitFor('the relay to be idle', () => relayedUpTo(ctx), 600_000, 50);
  const from = await loadCheckpoint(ctx.pool, RELAY_READER);
  const tenant = `relay-${randomUUID().slice(0, 8)}`;
  await appendBurst(ctx, tenant, count);
  const started = performance.now();
  await waitFor('the relay to publish the burst', () => relayedUpTo(ctx), 600_000, 10);
  const seconds = (performance.now() - started) / 1000;
  return {
    tenant,
    from,
    measure: { label: 'relay deployable: outbox → JetStream, acked, checkpointed', throughput: count / seconds, count },
  };
}

/**
 * The floor of the relay's work: read the same rows after the same checkpoint with the same reader
 * and driver, batches of 500, and publish each batch with the same client, waiting for the acks.
 */
async function readAndPublish(ctx: BenchContext, from: OutboxCheckpoint, count: number): Promise<Measure> {
  const raw = baselineStream(ctx);
  await ensureEventsStream(ctx.jsm, raw);
  const js = jetstream(ctx.nats);
  const started = performance.now();
  let at = from;
  let published = 0;
  while (published < count) {
    const batch = await readOutboxBatch(ctx.pool, at, Math.min(RELAY_BATCH, count - published));
    if (batch.length === 0) throw new Error('relay baseline: the burst is no longer in the outbox');
    await Promise.all(
      batch.map((event) =>
        js.publish(subjectOf(raw, event), JSON.stringify(event), { msgID: `${event.eventId}-raw`, timeout: 10_000 }),
      ),
    );
    published += batch.length;
    at = checkpointOf(batch[batch.length - 1]!);
  }
  const seconds = (performance.now() - started) / 1000;
  await ctx.jsm.streams.purge(raw.name);
  return {
    label: 'read the same rows (same reader, driver) + raw JetStream publish, batches of 500',
    throughput: published / seconds,
    count: published,
  };
}

export async function relayRows(ctx: BenchContext): Promise<Row[]> {
  const count = ctx.mode === 'tiny' ? 500 : ctx.mode === 'quick' ? 20_000 : 100_000;
  ctx.say(`  relay: a burst of ${count.toLocaleString('en')} events, and the same rows read + published raw…`);
  let last: { tenant: string; from: OutboxCheckpoint } | undefined;
  const relay = await medianOf(runsOf(ctx.mode), 'throughput', async () => {
    const burst = await relayBurst(ctx, count);
    last = burst;
    return burst.measure;
  });
  const raw = await medianOf(runsOf(ctx.mode), 'throughput', () => readAndPublish(ctx, last!.from, count));
  return [
    row(
      'relay',
      'outbox → JetStream (acked) vs raw publish loop',
      'throughput',
      'events/s',
      relay,
      raw,
      `${count.toLocaleString('en')} events committed in one transaction; goal ≥ 0.80×`,
    ),
  ];
}

/** Commit → read model visible at a fixed offered load, vs JetStream publish → consumer receive at the same rate. */
export async function freshnessRows(ctx: BenchContext): Promise<Row[]> {
  const rate = ctx.mode === 'tiny' ? 20 : 200;
  const seconds = ctx.mode === 'tiny' ? 2 : ctx.mode === 'quick' ? 10 : 30;
  await ctx.deployable('relay');
  await ctx.deployable('projector');
  await benchTenant(ctx, 'bench-fresh');
  ctx.say(`  freshness: ${rate} commands/s for ${seconds} s (${runsOf(ctx.mode)} runs)…`);
  const project = await medianOf(runsOf(ctx.mode), 'p99', () => commitToReadModel(ctx, rate, seconds));
  const baseline = await medianOf(runsOf(ctx.mode), 'p99', () => publishToConsume(ctx, rate, seconds));
  return [
    row(
      'freshness',
      `commit → read model visible at ${rate}/s vs JetStream publish → consume`,
      'p50',
      'ms',
      project,
      baseline,
      `${rate * seconds} commands over ${seconds} s; polled every 5 ms; the median run by p99; goal p99 ≤ 50 ms`,
    ),
  ];
}

/** One run: commands at `rate`/s, each timed from its commit until rm_counter_summary shows its version. */
async function commitToReadModel(ctx: BenchContext, rate: number, seconds: number): Promise<Measure> {
  const commands = createCounterCommands({ pool: ctx.pool });
  const committed = new Map<string, number>(); // `${counter}@${version}` → commit time
  const visible: number[] = [];
  const pending = new Map<string, number[]>(); // counter → versions not yet seen
  let loadDone = false;
  const poller = (async () => {
    const seen = new Map<string, number>();
    while (!loadDone || [...pending.values()].some((v) => v.length > 0)) {
      const rows = await ctx.pool.any(sql.type(z.object({ counter: z.string(), version: z.coerce.number() }))`
        select counter_id as counter, version from rm_counter_summary where tenant_id = 'bench-fresh'`);
      const now = performance.now();
      for (const { counter, version } of rows) {
        if ((seen.get(counter) ?? 0) >= version) continue;
        seen.set(counter, version);
        const waiting = pending.get(counter) ?? [];
        pending.set(
          counter,
          waiting.filter((v) => {
            if (v > version) return true;
            visible.push(now - committed.get(`${counter}@${v}`)!);
            return false;
          }),
        );
      }
      await sleep(5);
    }
  })();
  const interval = 1000 / rate;
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < rate * seconds; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const counter = `f${i % 50}`;
    inFlight.push(
      commands
        .execute({ tenantId: 'bench-fresh', counterId: counter, command: { type: 'increment', by: 1 }, metadata: {} })
        .then((result) => {
          committed.set(`${counter}@${result.response.version}`, performance.now());
          pending.set(counter, [...(pending.get(counter) ?? []), result.response.version]);
        }),
    );
  }
  await Promise.all(inFlight);
  loadDone = true;
  await Promise.race([
    poller,
    sleep(120_000).then(() => Promise.reject(new Error('freshness: events never became visible'))),
  ]);
  return latencyMeasure('commit → visible in rm_counter_summary (relay + projector processes)', visible, seconds);
}

/** One run of the baseline: the same rate through JetStream alone, publish → a consumer has it. */
async function publishToConsume(ctx: BenchContext, rate: number, seconds: number): Promise<Measure> {
  const interval = 1000 / rate;
  const raw = baselineStream(ctx);
  await ensureEventsStream(ctx.jsm, raw);
  const subject = `${raw.subjectPrefix}.fresh`;
  const durable = `fresh-${randomUUID().slice(0, 8)}`;
  await ctx.jsm.consumers.add(raw.name, {
    durable_name: durable,
    filter_subject: subject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.New,
  });
  const js = jetstream(ctx.nats);
  const consumer = await js.consumers.get(raw.name, durable);
  const received: number[] = [];
  const messages = await consumer.consume({ max_messages: 100 });
  const total = rate * seconds;
  const reading = (async () => {
    for await (const message of messages) {
      received.push(performance.now() - message.json<{ sentAt: number }>().sentAt);
      message.ack();
      if (received.length >= total) break;
    }
  })();
  const rawStart = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = rawStart + i * interval - performance.now();
    if (wait > 0) await sleep(wait);
    await js.publish(subject, JSON.stringify({ sentAt: performance.now(), i }));
  }
  await Promise.race([reading, sleep(60_000)]);
  await messages.close();
  await ctx.jsm.consumers.delete(raw.name, durable);
  return latencyMeasure('JetStream publish → pull consumer receives', received, seconds);
}

/** Rebuild of the counters projection through its workflow (projector process), events/s. */
async function rebuildRate(ctx: BenchContext): Promise<Measure> {
  await ctx.deployable('projector');
  const started = performance.now();
  const handle = await ctx.client.workflow.start(rebuildProjection, {
    taskQueue: TASK_QUEUES.projector,
    workflowId: `${WORKFLOW_IDS.rebuild('counters')}-${randomUUID().slice(0, 8)}`,
    args: [{ projection: 'counters' }],
  });
  const status = await handle.result();
  const seconds = (performance.now() - started) / 1000;
  return {
    label: 'rebuild workflow: outbox → fresh tables → swap',
    throughput: status.replayed / seconds,
    count: status.replayed,
  };
}

/** The gap-free reader alone over the whole outbox, through slonik, same batch size. */
async function rawScan(ctx: BenchContext): Promise<Measure> {
  const started = performance.now();
  let at: OutboxCheckpoint = OUTBOX_START;
  let count = 0;
  for (;;) {
    const batch = await readOutboxBatch(ctx.pool, at, REBUILD_BATCH);
    if (batch.length === 0) break;
    count += batch.length;
    at = { txId: batch[batch.length - 1]!.txId, position: batch[batch.length - 1]!.position };
  }
  return {
    label: 'raw gap-free scan of the outbox (slonik, batches of 1,000)',
    throughput: count / ((performance.now() - started) / 1000),
    count,
  };
}

export async function rebuildRows(ctx: BenchContext): Promise<Row[]> {
  if (ctx.mode === 'full') await fillOutbox(ctx, 1_000_000); // the fixed costs of a rebuild fade at this size
  ctx.say(`  rebuild of the counters projection (${runsOf(ctx.mode)} runs each)…`);
  const rebuild = await medianOf(runsOf(ctx.mode), 'throughput', () => rebuildRate(ctx));
  const scan = await medianOf(runsOf(ctx.mode), 'throughput', () => rawScan(ctx));
  return [
    row(
      'rebuild',
      'replay into fresh read models vs raw outbox scan',
      'throughput',
      'events/s',
      rebuild,
      scan,
      `${rebuild.count?.toLocaleString('en')} events in the outbox; goal ≥ 0.50× at 10^6 (--full)`,
    ),
  ];
}

/**
 * Fills the outbox up to `size` rows with counter events (bursts of 100,000, one tenant each) and
 * marks them relayed, so only later bursts are published. The relay is stopped meanwhile.
 */
async function fillOutbox(ctx: BenchContext, size: number): Promise<void> {
  const have = await ctx.pool.oneFirst(sql.type(n)`select count(*) as n from event_outbox`);
  if (have >= size) return;
  ctx.say(`  filling the outbox to ${size.toLocaleString('en')} rows…`);
  await ctx.stop('relay');
  for (let added = 0; added < size - have; added += 100_000) {
    await appendBurst(ctx, `filler-${randomUUID().slice(0, 8)}`, Math.min(100_000, size - have - added));
  }
  const head = await ctx.pool.one(sql.type(position)`
    select tx_id::text as "txId", position::text as position from event_outbox order by event_outbox.tx_id desc, event_outbox.position desc limit 1`);
  await advanceCheckpoint(ctx.pool, RELAY_READER, head);
  await ctx.pool.query(sql.unsafe`vacuum analyze event_outbox`);
  await relayBurst(ctx, 100); // warm-up: the restarted relay picks its workflow up again
}

export interface GrowthPoint {
  rows: number;
  relay: number;
  rebuild: number;
  scan: number;
  readerPlan: string;
  usesIndex: boolean;
}

/** Relay and rebuild throughput as the outbox grows; filler rows are marked relayed so only the probe burst is published. */
export async function growth(ctx: BenchContext): Promise<{ points: GrowthPoint[]; rows: Row[] }> {
  const sizes =
    ctx.mode === 'tiny' ? [1_000, 2_000] : ctx.mode === 'quick' ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
  const probe = ctx.mode === 'tiny' ? 200 : 20_000;
  const points: GrowthPoint[] = [];
  // Exact sizes: start from an empty outbox (the sandbox's own database; the earlier benchmarks are done with it).
  await ctx.stop('relay');
  await ctx.pool.query(sql.unsafe`truncate event_outbox`);
  await ctx.pool.query(sql.unsafe`delete from outbox_checkpoints where reader = ${RELAY_READER}`);
  for (const size of sizes) {
    await fillOutbox(ctx, size);
    const rowsBefore = await ctx.pool.oneFirst(sql.type(n)`select count(*) as n from event_outbox`);
    const { measure: relay } = await relayBurst(ctx, probe);
    const checkpoint = await ctx.pool.one(sql.type(position)`
      select tx_id::text as "txId", position::text as position from outbox_checkpoints where reader = ${RELAY_READER}`);
    const plan = await ctx.pool.anyFirst(sql.type(z.object({ 'QUERY PLAN': z.string() }))`
      explain select * from event_outbox
      where (tx_id, position) > (${checkpoint.txId}::xid8, ${checkpoint.position}::bigint) and tx_id < pg_snapshot_xmin(pg_current_snapshot())
      order by tx_id, position limit ${RELAY_BATCH}`);
    const rebuild = await rebuildRate(ctx);
    const scan = await rawScan(ctx);
    points.push({
      rows: rowsBefore,
      relay: relay.throughput!,
      rebuild: rebuild.throughput!,
      scan: scan.throughput!,
      readerPlan: plan.join(' / ').replace(/\s+/g, ' '),
      usesIndex: plan.some((line) => /Index (Only )?Scan using event_outbox_tx_id_position/.test(line)),
    });
    ctx.say(
      `    ${rowsBefore.toLocaleString('en')} rows: relay ${Math.round(relay.throughput!)}/s, rebuild ${Math.round(rebuild.throughput!)}/s, index ${points.at(-1)!.usesIndex ? 'yes' : 'NO'}`,
    );
  }
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const rows = [
    row(
      'growth',
      `relay at ${last.rows.toLocaleString('en')} vs ${first.rows.toLocaleString('en')} outbox rows`,
      'throughput',
      'events/s',
      { label: `relay, outbox of ${last.rows.toLocaleString('en')}`, throughput: last.relay },
      { label: `relay, outbox of ${first.rows.toLocaleString('en')}`, throughput: first.relay },
      `a burst of ${probe.toLocaleString('en')} events; reader plan ${last.usesIndex ? 'uses' : 'does NOT use'} the (tx_id, position) index`,
    ),
  ];
  rows.push(
    row(
      'growth',
      `rebuild at ${last.rows.toLocaleString('en')} vs ${first.rows.toLocaleString('en')} outbox rows`,
      'throughput',
      'events/s',
      { label: `rebuild, outbox of ${last.rows.toLocaleString('en')}`, throughput: last.rebuild },
      { label: `rebuild, outbox of ${first.rows.toLocaleString('en')}`, throughput: first.rebuild },
    ),
  );
  return { points, rows };
}
