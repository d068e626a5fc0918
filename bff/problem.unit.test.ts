// The one error path: unexpected failures become 500 INTERNAL without leaking anything, an
// unavailable dependency 503 UNAVAILABLE with Retry-After, and a request the client gave up on is
// logged and counted as aborted (499), not as a server error.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServiceError } from '@temporalio/client';
import { errors as nats } from '@nats-io/transport-node';
import { describe, it } from 'mocha';
import { pino } from 'pino';
import { ConnectionError } from 'slonik';
import { createBffApp } from './bff.app.ts';
import { HTTP_ROUTES } from '../contracts/http-api.ts';
import type { AnyRouteHandler, RouteHandlers } from './api.router.ts';
import { createHttpMetrics } from './metrics.ts';

/** The BFF app with every route answered by `handler`, on a loopback port, logging into `lines`. */
async function withApp(
  handler: AnyRouteHandler,
  body: (port: number, lines: string[], metrics: () => Promise<string>) => Promise<void>,
) {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  const metrics = createHttpMetrics();
  const app = createBffApp({
    logger,
    metrics,
    readiness: {},
    api: {
      // The same handler for every route (these tests are about errors, not what a route does).
      handlers: Object.fromEntries(HTTP_ROUTES.map((route) => [route.operationId, handler])) as RouteHandlers,
      verify: async () => ({ userId: 'u', roles: [] }),
      // These tests are about errors, not access: every check is allowed.
      authz: {
        check: async () => true,
        grant: async () => {},
        revoke: async () => {},
        tuplesOn: async () => [],
        forget: () => {},
      },
    },
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    await body((server.address() as AddressInfo).port, lines, () => metrics.registry.metrics());
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const getCounter = (port: number) =>
  fetch(`http://127.0.0.1:${port}/v1/tenants/t1/counters/c1`, { headers: { authorization: 'Bearer a.b.c' } });

describe('BFF errors', () => {
  it('an unexpected error is 500 INTERNAL problem+json with no internals, and is logged with its request id', async () => {
    const boom: AnyRouteHandler = async () => {
      throw new Error('password=hunter2 at db.internal:5432');
    };
    await withApp(boom, async (port, lines) => {
      const response = await getCounter(port);
      const text = await response.text();
      assert.equal(response.status, 500);
      assert.equal((JSON.parse(text) as { code: string }).code, 'INTERNAL');
      assert.doesNotMatch(text, /hunter2|db\.internal|Error|at /);
      const requestId = response.headers.get('x-request-id');
      assert.ok(
        lines.some((line) => line.includes('hunter2') && line.includes(String(requestId))),
        'the log keeps the cause for operators',
      );
    });
  });

  const outages: [string, Error][] = [
    ['postgres', new ConnectionError('connect ECONNREFUSED 127.0.0.1:5432')],
    ['nats', new nats.TimeoutError()],
    [
      'temporal',
      new ServiceError('Failed to start workflow', { cause: Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }) }),
    ],
  ];
  for (const [dependency, error] of outages) {
    it(`${dependency} unavailable: 503 UNAVAILABLE problem+json naming it, with Retry-After; a warning, not an error`, async () => {
      const down: AnyRouteHandler = async () => {
        throw error;
      };
      await withApp(down, async (port, lines) => {
        const response = await getCounter(port);
        assert.equal(response.status, 503);
        assert.equal(response.headers.get('content-type'), 'application/problem+json');
        assert.equal(response.headers.get('retry-after'), '5');
        const problem = (await response.json()) as { code: string; dependency: string; detail: string };
        assert.equal(problem.code, 'UNAVAILABLE');
        assert.equal(problem.dependency, dependency);
        assert.match(problem.detail, new RegExp(`${dependency} is unavailable; retry after 5 s`));
        const levels = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
        assert.ok(levels.some((l) => l.level === 40 && l.msg === 'dependency unavailable'));
        assert.ok(!levels.some((l) => l.level >= 50), 'no error-level line for an outage');
      });
    });
  }

  it('a request the client aborts is logged and counted as 499, not as a 500', async () => {
    let aborted!: () => void;
    const clientLeft = new Promise<void>((resolve) => (aborted = resolve));
    const slow: AnyRouteHandler = async () => {
      await clientLeft;
      await new Promise((resolve) => setTimeout(resolve, 50));
      throw new ConnectionError('the work the client no longer waits for failed too');
    };
    await withApp(slow, async (port, lines, metrics) => {
      const call = request({
        port,
        host: '127.0.0.1',
        path: '/v1/tenants/t1/counters/c1',
        headers: { authorization: 'Bearer a.b.c' },
      });
      call.on('error', () => undefined);
      call.end();
      await new Promise((resolve) => setTimeout(resolve, 100));
      call.destroy();
      aborted();
      const line = async () =>
        lines
          .map((l) => JSON.parse(l) as { msg: string; status: number })
          .find((l) => l.msg === 'request aborted by the client');
      for (let i = 0; i < 50 && !(await line()); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal((await line())?.status, 499);
      const text = await metrics();
      assert.match(text, /http_requests_total\{[^}]*status="499"[^}]*\} 1/);
      assert.doesNotMatch(text, /status="5\d\d"/);
    });
  });
});
