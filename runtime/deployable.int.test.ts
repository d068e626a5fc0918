// Each deployable starts alone from its entry point, refuses bad config with a readable message,
// and stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { describe, it } from 'mocha';
import { PRUNE_SCHEDULE_ID } from '../saga-worker/maintenance-schedule.ts';
import { smokeWorkflow } from '../workflows/smoke/smoke.workflow.ts';
import { openFgaTestEnv, testStack } from '../test/support/env.ts';
import { startEntry, until } from '../test/support/processes.ts';
import { TASK_QUEUES } from '../contracts/workflow-names.ts';

const baseEnv = (): NodeJS.ProcessEnv => {
  const stack = testStack();
  return {
    PATH: process.env.PATH,
    LOG_LEVEL: 'info',
    DATABASE_URL: stack.DATABASE_URL,
    NATS_URL: stack.NATS_URL,
    TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS,
    AUTH_JWKS_FILE: stack.AUTH_JWKS_FILE,
    ...openFgaTestEnv(),
  };
};

describe('deployable entry points', function () {
  this.timeout(120_000);

  it('bff: refuses to start on bad config, naming each variable (exit 78, no stack trace)', async () => {
    const started = startEntry('bff/bff.main.ts', {
      PATH: process.env.PATH,
      TEMPORAL_ADDRESS: 'not an address',
      BFF_PORT: 'x',
    });
    const { code } = await started.exited;
    assert.equal(code, 78);
    const output = started.output();
    assert.match(output, /invalid configuration for bff:/);
    assert.match(output, /- DATABASE_URL: is required/);
    assert.match(output, /- NATS_URL: is required/);
    assert.match(output, /- TEMPORAL_ADDRESS: must be host:port/);
    assert.match(output, /- BFF_PORT: /);
    assert.doesNotMatch(output, /\n\s+at /, 'no stack trace');
  });

  it('bff: serves /readyz from its own process and exits 0 on SIGTERM', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const started = startEntry('bff/bff.main.ts', { ...baseEnv(), BFF_PORT: String(port) });
    try {
      await until('bff /readyz', async () => {
        if (started.child.exitCode !== null) throw new Error(`bff exited: ${started.output()}`);
        return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
      });
      started.child.kill('SIGTERM');
      const { code } = await started.exited;
      assert.equal(code, 0, started.output());
      assert.match(started.output(), /"deployable":"bff","msg":"stopped"/);
    } finally {
      started.child.kill('SIGKILL');
    }
  });

  it('saga-worker: ensures the pruning schedule, polls tenant-sagas, runs a workflow, and drains on SIGTERM', async () => {
    const started = startEntry('saga-worker/saga-worker.main.ts', baseEnv());
    const connection = await Connection.connect({ address: testStack().TEMPORAL_ADDRESS });
    try {
      await until('saga worker polling', async () => /"msg":"worker polling"/.test(started.output()));
      const client = new Client({ connection });
      const result = await client.workflow.execute(smokeWorkflow, {
        taskQueue: TASK_QUEUES.sagas,
        workflowId: `smoke/${randomUUID()}`,
        args: ['from test'],
      });
      assert.equal(result, 'workflow saw: saga-worker echoed from test');
      const schedule = await client.schedule.getHandle(PRUNE_SCHEDULE_ID).describe();
      assert.equal(schedule.action.type, 'startWorkflow');
      started.child.kill('SIGTERM');
      const { code } = await started.exited;
      assert.equal(code, 0, started.output());
    } finally {
      started.child.kill('SIGKILL');
      await connection.close();
    }
  });

  for (const [name, entry] of [
    ['saga-worker', 'saga-worker/saga-worker.main.ts'],
    ['relay', 'relay/relay.main.ts'],
    ['projector', 'projector/projector.main.ts'],
  ] as const) {
    it(`${name}: starts alone, serves /healthz, /readyz (once polling) and /metrics on its own port, exits 0 on SIGTERM`, async () => {
      const started = startEntry(entry, baseEnv());
      try {
        let port = 0;
        await until(`${name} health port`, async () => {
          port = Number(/"port":(\d+),"msg":"health endpoints listening/.exec(started.output())?.[1] ?? 0);
          return port > 0;
        });
        const base = `http://127.0.0.1:${port}`;
        assert.equal((await fetch(`${base}/healthz`)).status, 200);
        await until(`${name} ready`, async () => (await fetch(`${base}/readyz`)).status === 200);
        const ready = (await (await fetch(`${base}/readyz`)).json()) as { checks: Record<string, string> };
        assert.deepEqual(ready.checks, { worker: 'ok', temporal: 'ok', postgres: 'ok', nats: 'ok' });
        const metrics = await (await fetch(`${base}/metrics`)).text();
        assert.match(metrics, /^temporal_worker_polling\{task_queue="[a-z-]+"\} 1$/m);
        assert.match(metrics, /^process_resident_memory_bytes /m);
        started.child.kill('SIGTERM');
        const { code } = await started.exited;
        assert.equal(code, 0, started.output());
        assert.match(started.output(), new RegExp(`"deployable":"${name}","msg":"stopped"`));
      } finally {
        started.child.kill('SIGKILL');
      }
    });
  }
});
