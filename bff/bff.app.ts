// Composes the BFF's Koa app from its middleware and routes. No I/O here: dependencies come in.
import Koa from 'koa';
import type { Logger } from '../runtime/logger.ts';
import { healthRoutes, type ReadinessChecks } from './health.routes.ts';
import type { HttpMetrics } from './metrics.ts';
import { requestMiddleware, type BffState } from './request.middleware.ts';

export interface BffDependencies {
  logger: Logger;
  metrics: HttpMetrics;
  readiness: ReadinessChecks;
}

export function createBffApp(deps: BffDependencies): Koa<BffState> {
  const app = new Koa<BffState>({ proxy: false });
  app.silent = true; // errors are logged once, by requestMiddleware
  app.use(requestMiddleware(deps.logger, deps.metrics));
  const health = healthRoutes(deps.readiness, deps.metrics);
  app.use(health.routes());
  app.use(health.allowedMethods());
  return app;
}
