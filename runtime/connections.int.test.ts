import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { after, before, describe, it } from 'mocha';
import { testStack } from '../test/support/env.ts';
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
