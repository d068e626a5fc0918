// The BFF's /healthz, /readyz and /metrics (runtime/health.ts says what each answers).
import Router from '@koa/router';
import { readiness, type ReadinessChecks } from '../runtime/health.ts';
import type { HttpMetrics } from './metrics.ts';
import type { BffState } from './request.middleware.ts';

export function healthRoutes(checks: ReadinessChecks, metrics: HttpMetrics): Router<BffState> {
  const router = new Router<BffState>();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const { ready, body } = await readiness(checks);
    ctx.status = ready ? 200 : 503;
    ctx.body = body;
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}
