// Composes the BFF's Koa app from its middleware and routes. No I/O here: dependencies come in.
import type { Tracer } from '@opentelemetry/api';
import Koa from 'koa';
import type { Logger } from '../runtime/logger.ts';
import type { Authz } from '../runtime/authz.ts';
import { apiRouter, type RouteHandlers } from './api.router.ts';
import type { TokenVerifier } from './auth.ts';
import { docsRoutes } from './docs.routes.ts';
import type { ReadinessChecks } from '../runtime/health.ts';
import { healthRoutes } from './health.routes.ts';
import type { HttpMetrics } from './metrics.ts';
import { requestMiddleware, type BffState } from './request.middleware.ts';

export interface BffDependencies {
  logger: Logger;
  metrics: HttpMetrics;
  readiness: ReadinessChecks;
  /** The BFF's tracer (runtime/tracing.ts); the API's global one when absent. */
  tracer?: Tracer;
  /** The /v1 API; absent in tests of the operational endpoints alone. */
  api?: { handlers: RouteHandlers; verify: TokenVerifier; authz: Authz };
}

export function createBffApp(deps: BffDependencies): Koa<BffState> {
  const app = new Koa<BffState>({ proxy: false });
  app.silent = true; // errors are logged once, by requestMiddleware
  app.use(requestMiddleware(deps.logger, deps.metrics, deps.tracer));
  const routers = [healthRoutes(deps.readiness, deps.metrics), docsRoutes()];
  if (deps.api) routers.push(apiRouter(deps.api.handlers, deps.api.verify, deps.api.authz));
  for (const router of routers) {
    app.use(router.routes());
    // Sets Allow and 405 (or 501 for a method no router knows, e.g. TRACE); requestMiddleware turns
    // either into a METHOD_NOT_ALLOWED problem, Allow kept (RFC 9110 §15.5.6).
    app.use(router.allowedMethods());
  }
  return app;
}
