// The NATS permissions model on a real nats-server configured with the block the local stack writes
// (platform/nats-authorization.ts): each identity can do its deployable's job and nothing else.
// Nobody without credentials gets in, and only the relay can put an event on the events stream; a
// forged event published with the relay's credentials is parked by the projector instead
// (projector/projector-loop.int.test.ts, "forged events are parked").
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliverPolicy, jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { after, before, describe, it } from 'mocha';
import { ensureNatsServer } from '../cli/stack/tools.ts';
import { connectNats, type NatsConnection } from '../runtime/connections.ts';
import type { DeployableName } from '../runtime/deployable.ts';
import { ensureEventsStream } from '../runtime/events-stream.ts';
import { freePort } from '../test/support/bff.ts';
import { until } from '../test/support/processes.ts';
import { authorizationBlock } from './nats-authorization.ts';

const stream = { name: 'EVENTS', subjectPrefix: 'events' };
const event = (tenant: string) => `events.${tenant}.counter.CounterIncremented`;
const IDENTITIES: Record<string, DeployableName[] | undefined> = {
  admin: undefined,
  relay: ['relay'],
  projector: ['projector'],
  bff: ['bff'],
  'saga-worker': ['saga-worker'],
  app: ['bff', 'saga-worker', 'relay', 'projector'],
};

/** Rejected by the server for want of a permission (as a request's error, or the connection's). */
async function refused(what: string, attempt: () => Promise<unknown>): Promise<void> {
  await assert.rejects(attempt, /permission/i, `${what} must be refused`);
}

describe('NATS identities and subject permissions', function () {
  this.timeout(60_000);
  let server: ChildProcess;
  let dir: string;
  let port: number;
  const connections: NatsConnection[] = [];
  const urlOf = (user: string, password = `${user}-secret`) => `nats://${user}:${password}@127.0.0.1:${port}`;
  const as = async (user: string) => {
    const nc = await connectNats(urlOf(user), `${user}-test`);
    connections.push(nc);
    return nc;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nats-auth-'));
    port = await freePort();
    const config = join(dir, 'nats.conf');
    const identities = Object.entries(IDENTITIES).map(([user, deployables]) => ({
      user,
      password: `${user}-secret`,
      ...(deployables ? { deployables } : {}),
    }));
    writeFileSync(config, authorizationBlock(identities, stream));
    server = spawn(
      ensureNatsServer(() => undefined),
      ['--config', config, '--addr', '127.0.0.1', '--port', String(port), '--jetstream', '--store_dir', dir],
      { stdio: 'ignore' },
    );
    await until(
      'the nats-server with authorization',
      async () => {
        const probe = await connectNats(urlOf('admin'), 'probe').catch(() => undefined);
        await probe?.close();
        return probe !== undefined;
      },
      10_000,
    );
  });
  after(async () => {
    await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
    server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the generated production block (platform/generated/nats-authorization.conf) is a valid server config, passwords from the server's environment", () => {
    const file = join(import.meta.dirname, 'generated', 'nats-authorization.conf');
    const passwords = {
      NATS_PASSWORD_BFF: 'a',
      NATS_PASSWORD_SAGA_WORKER: 'b',
      NATS_PASSWORD_RELAY: 'c',
      NATS_PASSWORD_PROJECTOR: 'd',
    };
    const check = spawnSync(
      ensureNatsServer(() => undefined),
      ['-t', '-c', file],
      {
        env: { ...process.env, ...passwords },
        encoding: 'utf8',
      },
    );
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stderr + check.stdout, /is valid/);
  });

  it('refuses a client without credentials or with a wrong password', async () => {
    await assert.rejects(connectNats(`nats://127.0.0.1:${port}`, 'anonymous'), /authorization/i);
    await assert.rejects(connectNats(urlOf('relay', 'guess'), 'guessing'), /authorization/i);
  });

  it('the relay ensures the events stream, publishes events and reads back the last one', async () => {
    const nc = await as('relay');
    const jsm = await jetstreamManager(nc);
    await ensureEventsStream(jsm, stream);
    const ack = await jetstream(nc).publish(event('t1'), '{}', { msgID: randomUUID() });
    const stored = await jsm.streams.getMessage(stream.name, { seq: ack.seq });
    assert.equal(stored?.subject, event('t1'));
  });

  it('only the relay may publish an event: the BFF, the projector, the saga worker are refused', async () => {
    for (const user of ['bff', 'projector', 'saga-worker']) {
      const nc = await as(user);
      await refused(`an event published by ${user}`, () => jetstream(nc).publish(event('forged'), '{}'));
    }
    const admin = await jetstreamManager(await as('admin'));
    assert.equal((await admin.streams.info(stream.name)).state.messages, 1, 'nothing forged was stored');
  });

  it('the projector reads the stream through its ordered consumer, and cannot listen to replies meant for others', async () => {
    const nc = await as('projector');
    await ensureEventsStream(await jetstreamManager(nc), stream);
    // As the projection loop does: an ordered consumer from a sequence, pulled.
    const consumer = await jetstream(nc).consumers.get(stream.name, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: 1,
    });
    const message = await consumer.next({ expires: 5_000 });
    assert.equal(message?.subject, event('t1'));
    // The server closes the subscription; `closed` resolves with the reason.
    const outcome = await nc.subscribe('_INBOX.>').closed;
    assert.match(String(outcome), /permission/i, 'a subscription to the shared inbox must be refused');
  });

  it('the BFF reads stream info for lag, and may not delete the stream', async () => {
    const jsm = await jetstreamManager(await as('bff'));
    assert.equal((await jsm.streams.info(stream.name)).state.messages, 1);
    await refused('deleting the events stream as the BFF', () => jsm.streams.delete(stream.name));
  });

  it("the saga worker creates and deletes a tenant's stream, and may not touch the events stream", async () => {
    const jsm = await jetstreamManager(await as('saga-worker'));
    const tenantStream = `TENANT_${randomUUID().slice(0, 8).toUpperCase()}`;
    await jsm.streams.add({ name: tenantStream, subjects: [`tenant.x.>`], storage: StorageType.File });
    assert.equal(await jsm.streams.delete(tenantStream), true);
    await refused('deleting the events stream as the saga worker', () => jsm.streams.delete(stream.name));
    await refused('re-creating the events stream as the saga worker', () =>
      jsm.streams.add({ name: stream.name, subjects: ['elsewhere.>'] }),
    );
  });

  it('one process running every deployable (single VPS) has their union, still without deleting the stream', async () => {
    const nc = await as('app');
    const jsm = await jetstreamManager(nc);
    await ensureEventsStream(jsm, stream);
    await jetstream(nc).publish(event('t2'), '{}', { msgID: randomUUID() });
    await refused('deleting the events stream as the app', () => jsm.streams.delete(stream.name));
    assert.equal((await jsm.streams.info(stream.name)).state.messages, 2);
  });
});
