// The projection loop across a crash and restart of NATS (found by the chaos tier,
// test/chaos.chaos.test.ts): the server forgets the loop's ordered consumer and its pull requests,
// and the loop must go on consuming from where it was within seconds — not sit idle, heartbeating,
// until its minute is up while the projection falls behind its SLO (PULL_EXPIRES_MS in
// projector.activities.ts). Against a nats-server of its own, killed and restarted on the same
// port and store.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { after, before, describe, it } from 'mocha';
import { ensureNatsServer } from '../cli/stack/tools.ts';
import { connectNats, type NatsConnection } from '../runtime/connections.ts';
import { ensureEventsStream, subjectOf } from '../runtime/events-stream.ts';
import { createDatabasePool, type DatabasePool } from '../services/kernel/database.ts';
import { counterProjection, readCounterSummary } from '../services/read-models/counters.read-model.ts';
import { freePort } from '../test/support/bff.ts';
import { createMigratedDatabase, type FreshDatabase } from '../test/support/database.ts';
import { testStack } from '../test/support/env.ts';
import { counterIncremented } from '../test/support/pipeline.ts';
import { until } from '../test/support/processes.ts';
import { createProjectorActivities, type ProjectLoopInput, type ProjectLoopResult } from './projector.activities.ts';
import { toEnvelope } from '../contracts/envelope.ts';

describe('projection loop across a crash of NATS', function () {
  this.timeout(90_000);
  const store = mkdtempSync(join(tmpdir(), 'projector-restart-'));
  const stream = { name: `PRESTART_${randomUUID().slice(0, 8)}`, subjectPrefix: `pr${randomUUID().slice(0, 8)}` };
  let port: number;
  let server: ChildProcess | undefined;
  let nats: NatsConnection;
  let db: FreshDatabase;
  let pool: DatabasePool;
  let version = 0;

  const startServer = async () => {
    server = spawn(
      ensureNatsServer(() => undefined),
      ['--addr', '127.0.0.1', '--port', String(port), '--jetstream', '--store_dir', store],
      { stdio: 'ignore' },
    );
    await until(
      'the nats-server',
      async () => {
        const probe = await connectNats(`nats://127.0.0.1:${port}`, 'probe').catch(() => undefined);
        await probe?.close();
        return probe !== undefined;
      },
      15_000,
    );
  };
  /** SIGKILL: no goodbye to the clients (a graceful stop tells each pull request it is over). */
  const killServer = async () => {
    const stopping = server!;
    const exited = new Promise((resolve) => stopping.once('exit', resolve));
    stopping.kill('SIGKILL');
    await exited;
  };
  const publish = async (n: number) => {
    for (let i = 0; i < n; i++) {
      version++;
      const event = counterIncremented('restart', 'c', version);
      await jetstream(nats).publish(subjectOf(stream, event), JSON.stringify(toEnvelope(event)), {
        msgID: event.eventId,
      });
    }
  };
  const value = async () => (await readCounterSummary(pool, { tenantId: 'restart', counterId: 'c' })).value;

  before(async () => {
    port = await freePort();
    await startServer();
    nats = await connectNats(`nats://127.0.0.1:${port}`, 'projector-restart-test');
    await ensureEventsStream(await jetstreamManager(nats), stream);
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'projector_restart');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 4 });
  });
  after(async () => {
    await nats?.close();
    if (server && server.exitCode === null) await killServer();
    await pool?.end();
    await db?.drop();
    rmSync(store, { recursive: true, force: true });
  });

  it('goes on applying within seconds of the restart, inside the same loop, each event once', async () => {
    const environment = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    const loop = environment.run<
      [ProjectLoopInput],
      ProjectLoopResult,
      (input: ProjectLoopInput) => Promise<ProjectLoopResult>
    >(
      createProjectorActivities({
        pool,
        js: jetstream(nats),
        stream,
        projections: { counters: counterProjection() },
      }).projectLoop,
      { projection: 'counters', batchSize: 10, loopMs: 60_000 },
    );
    await publish(3);
    await until('the first events applied', async () => (await value()) === 3, 10_000);

    await killServer();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await startServer();
    const restarted = Date.now();
    await until('the publisher reconnected', async () => {
      await nats.flush();
      return true;
    });
    await publish(3);
    // Before the fix the loop's consumer stayed silent for 30 s and more (two missed 15 s heartbeats).
    await until('the events published after the restart applied', async () => (await value()) === 6, 15_000);
    const seconds = (Date.now() - restarted) / 1000;
    environment.cancel();
    const totals = await loop;
    assert.equal(totals.applied, 6, 'each event applied once, all in the one loop');
    assert.ok(seconds < 15, `applied ${seconds} s after the restart`);
  });
});
