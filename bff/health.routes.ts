// /healthz (the process answers), /readyz (its dependencies answer), /metrics (Prometheus text).
import Router from '@koa/router';
import type { HttpMetrics } from './metrics.ts';
import type { BffState } from './request.middleware.ts';

/** A named dependency probe; it throws (or times out) when the dependency is not usable. */
export type ReadinessChecks = Record<string, () => Promise<void>>;

const CHECK_TIMEOUT_MS = 2_000;

async function probe(check: () => Promise<void>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch (error) {
    return `failing: ${(error as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(checks: ReadinessChecks, metrics: HttpMetrics): Router<BffState> {
  const router = new Router<BffState>();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((name) => probe(checks[name]!)));
    const report = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const ready = results.every((result) => result === 'ok');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'unready', checks: report };
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}
