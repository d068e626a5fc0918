import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'mocha';
import { pino } from 'pino';
import { createBffApp } from './bff.app.ts';
import { createHttpMetrics } from './metrics.ts';
import type { ReadinessChecks } from '../runtime/health.ts';

async function withBff<T>(readiness: ReadinessChecks, use: (base: string) => Promise<T>): Promise<T> {
  const app = createBffApp({ logger: pino({ level: 'silent' }), metrics: createHttpMetrics(), readiness });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    return await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

const ok = async () => {};

describe('BFF health endpoints', () => {
  it('/healthz answers while dependencies are down; /readyz says which one is failing (503)', async () => {
    await withBff({ postgres: ok, nats: () => Promise.reject(new Error('connection refused')) }, async (base) => {
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), {
        status: 'unready',
        checks: { postgres: 'ok', nats: 'failing: connection refused' },
      });
    });
  });

  it('/readyz is 200 when every check passes', async () => {
    await withBff({ postgres: ok, nats: ok, temporal: ok }, async (base) => {
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 200);
      assert.equal(((await ready.json()) as { status: string }).status, 'ready');
    });
  });

  it('/metrics serves Prometheus text with process metrics and counts requests by route', async () => {
    await withBff({}, async (base) => {
      await fetch(`${base}/healthz`);
      const response = await fetch(`${base}/metrics`);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await response.text();
      assert.match(text, /^process_cpu_user_seconds_total \d/m);
      assert.match(text, /^http_requests_total\{method="GET",route="\/healthz",status="200"\} 1$/m);
    });
  });

  it('answers an unknown route with problem+json NOT_FOUND and a request id', async () => {
    await withBff({}, async (base) => {
      const response = await fetch(`${base}/nope`, { headers: { 'x-request-id': 'req-123' } });
      assert.equal(response.status, 404);
      assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(response.headers.get('x-request-id'), 'req-123');
      const body = (await response.json()) as Record<string, unknown>;
      assert.equal(body.code, 'NOT_FOUND');
      assert.equal(body.requestId, 'req-123');
    });
  });
});
