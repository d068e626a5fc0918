// The one error path: unexpected failures become 500 INTERNAL without leaking anything.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'mocha';
import { pino } from 'pino';
import { createBffApp } from './bff.app.ts';
import type { RouteHandler } from './api.router.ts';
import { createHttpMetrics } from './metrics.ts';

describe('BFF errors', () => {
  it('an unexpected error is 500 INTERNAL problem+json with no internals, and is logged with its request id', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => lines.push(line) });
    const boom: RouteHandler = async () => {
      throw new Error('password=hunter2 at db.internal:5432');
    };
    const handlers = {
      getCounter: boom,
      incrementCounter: boom,
      decrementCounter: boom,
      resetCounter: boom,
      rebuildProjection: boom,
      createTenant: boom,
      getTenant: boom,
      getOnboarding: boom,
      approveOnboarding: boom,
      deleteTenant: boom,
    };
    const app = createBffApp({
      logger,
      metrics: createHttpMetrics(),
      readiness: {},
      api: { handlers, verify: async () => ({ userId: 'u', tenantId: 't1', roles: ['viewer'] }) },
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/v1/tenants/t1/counters/c1`, {
        headers: { authorization: 'Bearer a.b.c' },
      });
      const text = await response.text();
      assert.equal(response.status, 500);
      assert.equal((JSON.parse(text) as { code: string }).code, 'INTERNAL');
      assert.doesNotMatch(text, /hunter2|db\.internal|Error|at /);
      const requestId = response.headers.get('x-request-id');
      assert.ok(
        lines.some((line) => line.includes('hunter2') && line.includes(String(requestId))),
        'the log keeps the cause for operators',
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
