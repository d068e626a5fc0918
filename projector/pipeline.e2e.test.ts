// Outbox → relay → JetStream → projector → read models, on the real servers, through crashes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'mocha';
import { sql } from 'slonik';
import { z } from 'zod';
import { createCounterCommands } from '../services/counter/counter.commands.ts';
import { createDatabasePool, type DatabasePool } from '../services/kernel/database.ts';
import { devToken, startTestBff, type TestBff } from '../test/support/bff.ts';
import { createMigratedDatabase, type FreshDatabase } from '../test/support/database.ts';
import { testStack } from '../test/support/env.ts';
import { bffClient } from '../cli/api-client.ts';
import { activeTenantRows, testAuthz } from '../test/support/tenants.ts';
import {
  converged,
  createPipeline,
  readModelsAndFold,
  storedMessageIds,
  until,
  type Pipeline,
} from '../test/support/pipeline.ts';
import { repoRoot } from '../test/support/processes.ts';
import { ownsServers, restartNats, restartPostgres } from '../test/support/servers.ts';
import { LAG_SLO, measureLag, sloBreaches } from '../runtime/pipeline-lag.ts';

const eventIds = (pool: DatabasePool) =>
  pool.anyFirst(sql.type(z.object({ id: z.string() }))`select event_id::text as id from event_outbox`);

describe('event pipeline: outbox → relay → JetStream → projector', function () {
  this.timeout(600_000);
  let db: FreshDatabase;
  let pool: DatabasePool;
  let pipeline: Pipeline;

  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'pipeline');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 8 });
    pipeline = await createPipeline(db.url);
    await pipeline.start();
    // Rows only, no tenant events: the checks below count the outbox's counter events.
    const authz = testAuthz();
    for (const tenantId of ['t1', 't2', 't3', 'crash0', 'crash1', 'crash2', 'crash3', 'lag', 'restart0', 'restart1'])
      await activeTenantRows(pool, tenantId, { owner: 'pipeline-user', authz });
  });
  after(async () => {
    await pipeline?.stop();
    await pool?.end();
    await db?.drop();
  });

  it('5,000 counter commands over HTTP from concurrent clients: read models equal the fold of the outbox, JetStream holds each event once', async () => {
    const bff: TestBff = await startTestBff(db.url);
    try {
      const tenants = ['t1', 't2', 't3'];
      const token = await devToken({ user: 'pipeline-user' });
      let sent = 0;
      const client = async () => {
        while (sent < 5_000) {
          sent++;
          const tenant = tenants[Math.floor(Math.random() * tenants.length)]!;
          const counter = `c${Math.floor(Math.random() * 20)}`;
          const roll = Math.random();
          const action = roll < 0.8 ? 'increment' : roll < 0.97 ? 'decrement' : 'reset';
          const params = {
            path: { tenantId: tenant, counterId: counter },
            header: { 'Idempotency-Key': randomUUID() },
          };
          const api = bffClient(bff.base, token);
          const { response, error } =
            action === 'reset'
              ? await api.POST('/v1/tenants/{tenantId}/counters/{counterId}/reset', { params, body: {} })
              : await api.POST(`/v1/tenants/{tenantId}/counters/{counterId}/${action}`, {
                  params,
                  body: { by: 1 + Math.floor(Math.random() * 3) },
                });
          assert.ok(response.status === 200 || error?.code === 'COUNTER_FLOOR_REACHED', JSON.stringify(error));
        }
      };
      await Promise.all(Array.from({ length: 16 }, client));
      await converged(pool, 120_000);
      const ids = await eventIds(pool);
      const stored = await storedMessageIds(pipeline.jsm, pipeline.stream);
      assert.equal(stored.length, ids.length, 'one stored message per event');
      assert.deepEqual([...stored].sort(), [...ids].sort());

      // the BFF reads the read model: a write is visible with ?minVersion right away
      const api = bffClient(bff.base, token);
      const counterAt = (counterId: string) => ({ tenantId: 't1', counterId });
      const write = await api.POST('/v1/tenants/{tenantId}/counters/{counterId}/increment', {
        params: { path: counterAt('fresh'), header: { 'Idempotency-Key': randomUUID() } },
        body: { by: 4 },
      });
      assert.ok(write.data, JSON.stringify(write.error));
      const read = await api.GET('/v1/tenants/{tenantId}/counters/{counterId}', {
        params: { path: counterAt('fresh'), query: { minVersion: write.data.version } },
      });
      assert.equal(read.response.headers.get('x-min-version-met'), 'true');
      assert.deepEqual(read.data, { tenantId: 't1', counterId: 'fresh', value: 4, version: 1 });
      const notModified = await api.GET('/v1/tenants/{tenantId}/counters/{counterId}', {
        params: { path: counterAt('fresh'), header: { 'If-None-Match': '"1"' } },
      });
      assert.equal(notModified.response.status, 304);
      const never = await api.GET('/v1/tenants/{tenantId}/counters/{counterId}', {
        params: { path: counterAt('never'), query: { minVersion: 1 } },
      });
      assert.equal(
        never.response.headers.get('x-min-version-met'),
        'false',
        'answers honestly when the version does not come',
      );
      assert.deepEqual(never.data, { tenantId: 't1', counterId: 'never', value: 0, version: 0 });
    } finally {
      await bff.stop();
    }
  });

  it('relay and projector SIGKILLed repeatedly during 10,000 events: nothing missing, nothing applied twice, checkpoints consistent', async () => {
    const commands = createCounterCommands({ pool });
    const before = (await eventIds(pool)).length;
    let written = 0;
    let loadDone = false;
    const writer = async (w: number) => {
      while (written < 10_000) {
        written++;
        await commands.execute({
          tenantId: `crash${w % 4}`,
          counterId: `k${Math.floor(Math.random() * 50)}`,
          command: { type: 'increment', by: 1 },
          metadata: { actor: 'crash-test' },
        });
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, (_, w) => writer(w))).then(() => {
      loadDone = true;
    });
    let kills = 0;
    while (!loadDone) {
      await new Promise((resolve) => setTimeout(resolve, 1_500 + Math.random() * 1_500));
      await pipeline.kill();
      kills++;
      await pipeline.start();
    }
    await load;
    assert.ok(kills >= 2, `killed ${kills} times during the load`);
    await converged(pool, 180_000);

    const ids = await eventIds(pool);
    assert.equal(ids.length, before + 10_000);
    const stored = await storedMessageIds(pipeline.jsm, pipeline.stream);
    assert.deepEqual([...new Set(stored)].sort(), [...ids].sort(), 'every event reached JetStream');
    assert.equal(stored.length, ids.length, 'and is stored once (broker dedup by Nats-Msg-Id)');

    const relayCheckpoint = await pool.one(sql.type(z.object({ atEnd: z.boolean() }))`
      select (c.tx_id, c.position) = (select tx_id, position from event_outbox order by tx_id desc, position desc limit 1) as "atEnd"
      from outbox_checkpoints c where reader = 'relay'`);
    assert.equal(relayCheckpoint.atEnd, true, 'relay checkpoint at the last event');
    const projected = await pool.oneFirst(sql.type(z.object({ seq: z.coerce.number() }))`
      select stream_sequence as seq from projection_checkpoints where projection = 'counters'`);
    const streamInfo = await pipeline.jsm.streams.info(pipeline.stream);
    assert.equal(projected, streamInfo.state.last_seq, 'projection checkpoint at the stream head');
  });

  it('lag is measured: with the pipeline down it grows past the SLO (measureLag — what status prints — and /metrics say so); after a restart it is back to 0', async () => {
    await pipeline.kill();
    const commands = createCounterCommands({ pool });
    for (let i = 0; i < 50; i++) {
      await commands.execute({
        tenantId: 'lag',
        counterId: `l${i % 5}`,
        command: { type: 'increment', by: 1 },
        metadata: {},
      });
    }
    await new Promise((resolve) => setTimeout(resolve, (LAG_SLO.relaySeconds + 1) * 1000));
    const lag = await measureLag(pool, pipeline.jsm, { name: pipeline.stream, subjectPrefix: pipeline.subjectPrefix }, [
      'counters',
    ]);
    assert.equal(lag.relay.events, 50);
    assert.ok(lag.relay.seconds > LAG_SLO.relaySeconds);
    assert.equal(lag.projections.counters?.events, 50);
    // The relay is past its 5 s; the projection (10 s) not yet: nothing has even reached its stream.
    assert.deepEqual(
      sloBreaches(lag).map((b) => b.split(' ')[0]),
      ['relay'],
    );
    const bff = await startTestBff(db.url, undefined, {
      EVENTS_STREAM: pipeline.stream,
      EVENTS_SUBJECT_PREFIX: pipeline.subjectPrefix,
    });
    try {
      // (restarted in `finally` too, so a failure here does not take the later tests down with it)
      const behind = await (await fetch(`${bff.base}/metrics`)).text();
      assert.match(behind, /^outbox_relay_lag_events 50$/m);
      assert.match(behind, /^projection_lag_events\{projection="counters"\} 50$/m);
      assert.match(behind, /^pipeline_lag_slo_breached 1$/m);
      await pipeline.start();
      await converged(pool, 60_000);
      // Every projection must catch up, not only counters: one whose activity was in flight at the
      // SIGKILL resumes after its heartbeat timeout (30 s).
      let caughtUp = '';
      await until(
        '/metrics to show the whole pipeline caught up',
        async () => {
          caughtUp = await (await fetch(`${bff.base}/metrics`)).text();
          return /^pipeline_lag_slo_breached 0$/m.test(caughtUp);
        },
        90_000,
      );
      assert.match(caughtUp, /^outbox_relay_lag_events 0$/m);
      assert.match(caughtUp, /^projection_lag_events\{projection="counters"\} 0$/m);
      assert.match(caughtUp, /^projection_lag_events\{projection="tenants"\} 0$/m);
    } finally {
      await bff.stop();
      if (pipeline.process()?.child.exitCode !== null) await pipeline.start();
    }
  });

  it('NATS and PostgreSQL restarted mid-load: nothing missing, nothing applied twice', async function () {
    if (!ownsServers()) this.skip(); // servers given by DATABASE_URL / NATS_URL are not ours to restart
    const commands = createCounterCommands({ pool });
    const before = (await eventIds(pool)).length;
    let committed = 0;
    let failures = 0;
    let stop = false;
    const writer = async (w: number) => {
      while (!stop) {
        try {
          await commands.execute({
            tenantId: `restart${w % 2}`,
            counterId: `r${Math.floor(Math.random() * 20)}`,
            command: { type: 'increment', by: 1 },
            metadata: {},
          });
          committed++;
        } catch {
          failures++; // the database is down for a moment; the command did not commit
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    };
    const load = Promise.all(Array.from({ length: 4 }, (_, w) => writer(w)));
    await until('some load before the NATS restart', async () => committed > 500, 60_000);
    await restartNats(1_000);
    await until('load after the NATS restart', async () => committed > 1_500, 60_000);
    await restartPostgres(1_000);
    await until('load after the PostgreSQL restart', async () => committed > 2_500, 120_000);
    stop = true;
    await load;
    assert.ok(failures > 0, 'the writers noticed the PostgreSQL restart');
    await converged(pool, 180_000);
    const ids = await eventIds(pool);
    // A command whose connection died during COMMIT may have committed unseen by its client (in
    // doubt), so the client's count is a lower bound; the invariant is state ↔ events (invariant I1, docs/architecture.md).
    assert.ok(ids.length >= before + committed, 'every acknowledged command has its event');
    const sides = await pool.one(sql.type(z.object({ state: z.coerce.number(), events: z.coerce.number() }))`
      select (select coalesce(sum(value), 0) from counters where tenant_id like 'restart%') as state,
             (select count(*) from event_outbox where tenant_id like 'restart%') as events`);
    assert.equal(sides.state, sides.events, 'each increment by 1 in state has exactly one event');
    const stored = await storedMessageIds(pipeline.jsm, pipeline.stream);
    assert.deepEqual([...stored].sort(), [...ids].sort(), 'every event stored in JetStream exactly once');
  });

  it('rebuild of emptied read models (CLI, with progress) equals the live read models row for row, and reads keep working meanwhile', async () => {
    const live = await readModelsAndFold(pool);
    assert.equal(JSON.stringify(live.actual), JSON.stringify(live.fold));
    // Throw the read models away; only the rebuild can bring them back.
    await pool.query(sql.unsafe`delete from rm_counter_summary`);
    await pool.query(sql.unsafe`delete from rm_tenant_activity`);
    const bff: TestBff = await startTestBff(db.url);
    const token = await devToken({ user: 'pipeline-user' });
    let reading = true;
    const readStatuses: number[] = [];
    const reader = (async () => {
      while (reading) {
        const { response } = await bffClient(bff.base, token).GET('/v1/tenants/{tenantId}/counters/{counterId}', {
          params: { path: { tenantId: 'crash0', counterId: 'k1' } },
        });
        readStatuses.push(response.status);
      }
    })();
    try {
      const rebuild = spawnSync(process.execPath, ['tools/bootstrap.mjs', 'rebuild', 'counters', '--test'], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH, TEMPORAL_ADDRESS: testStack().TEMPORAL_ADDRESS },
        encoding: 'utf8',
        timeout: 300_000,
      });
      assert.equal(rebuild.status, 0, rebuild.stderr);
      assert.match(
        rebuild.stderr,
        /done +\d+\/\d+ events \(100%\) \d+ ev\/s ETA 0 s/,
        'progress lines with rate and ETA (live ones while the replay takes longer than a second)',
      );
      assert.match(rebuild.stderr, /✓ counters rebuilt: \d+ events replayed/);
    } finally {
      reading = false;
      await reader;
      await bff.stop();
    }
    assert.ok(
      readStatuses.length > 0 && readStatuses.every((status) => status === 200),
      `reads during the rebuild: ${[...new Set(readStatuses)].join(',')}`,
    );
    const rebuilt = await readModelsAndFold(pool);
    assert.deepEqual(rebuilt.actual, live.actual, 'rebuilt = live, row for row');
  });
});
