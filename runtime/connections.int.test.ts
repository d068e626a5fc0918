import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { after, before, describe, it } from 'mocha';
import { spawn, type ChildProcess } from 'node:child_process';
import { ensureNatsServer } from '../cli/stack/tools.ts';
import { freePort } from '../test/support/bff.ts';
import { testStack } from '../test/support/env.ts';
import { until } from '../test/support/processes.ts';
import { connectNats, connectTemporalClient, type NatsConnection } from './connections.ts';

describe('server connections', () => {
  describe('NATS JetStream', () => {
    let nc: NatsConnection;
    const stream = `PROBE_${randomUUID().slice(0, 8).toUpperCase()}`;
    before(async () => {
      nc = await connectNats(testStack().NATS_URL, 'connections-test');
    });
    after(async () => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.drain();
    });

    it('stores on file, acks publishes, and drops a duplicate Nats-Msg-Id inside the window', async () => {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.add({
        name: stream,
        subjects: [`${stream.toLowerCase()}.>`],
        storage: StorageType.File,
        duplicate_window: 60_000_000_000, // ns
      });
      assert.equal(info.config.storage, StorageType.File);
      const js = jetstream(nc);
      const msgID = randomUUID();
      const first = await js.publish(`${stream.toLowerCase()}.a`, 'one', { msgID });
      const again = await js.publish(`${stream.toLowerCase()}.a`, 'one', { msgID });
      assert.equal(first.duplicate, false);
      assert.equal(again.duplicate, true);
      assert.equal(again.seq, first.seq);
      assert.equal((await jsm.streams.info(stream)).state.messages, 1);
    });
  });

  describe('NATS with a user and password in NATS_URL', () => {
    let server: ChildProcess;
    let port: number;
    // A password that starts with a digit and holds an "@": nats.js alone would read "9" as the port.
    const password = '9s@cret';
    before(async () => {
      port = await freePort();
      server = spawn(
        ensureNatsServer(() => undefined),
        ['--addr', '127.0.0.1', '--port', String(port), '--user', 'app', '--pass', password],
        {
          stdio: 'ignore',
        },
      );
      await until(
        'the authenticated nats-server',
        async () => {
          const probe = await connectNats(
            `nats://app:${encodeURIComponent(password)}@127.0.0.1:${port}`,
            'probe',
          ).catch(() => undefined);
          await probe?.close();
          return probe !== undefined;
        },
        10_000,
      );
    });
    after(() => {
      server?.kill();
    });

    it('connects with the credentials of the URL, percent-encoded, and is refused with wrong ones', async () => {
      const nc = await connectNats(`nats://app:${encodeURIComponent(password)}@127.0.0.1:${port}`, 'credentials-test');
      await nc.flush();
      assert.equal(nc.getServer(), `127.0.0.1:${port}`);
      await nc.close();
      await assert.rejects(connectNats(`nats://app:wrong@127.0.0.1:${port}`, 'credentials-test'), /Authorization/i);
    });
  });

  describe('Temporal', () => {
    it('reaches the frontend and the default namespace', async () => {
      const { TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE } = testStack();
      const { connection } = await connectTemporalClient(TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE);
      try {
        const ns = await connection.workflowService.describeNamespace({ namespace: TEMPORAL_NAMESPACE });
        assert.equal(ns.namespaceInfo?.name, TEMPORAL_NAMESPACE);
      } finally {
        await connection.close();
      }
    });
  });
});
