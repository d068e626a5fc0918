// Top of the BFF's middleware chain: request id, access log, metrics, and the one error path.
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../runtime/logger.ts';
import type { HttpMetrics } from './metrics.ts';
import { asHttpProblem, HttpProblem, toProblem } from './problem.ts';

export interface BffState {
  requestId: string;
}

const CLIENT_REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Every response carries X-Request-Id, and every log line of the request the same id; one access
 * line per request (no per-request child logger: the id is a field of the lines themselves).
 */
export function requestMiddleware(logger: Logger, metrics: HttpMetrics): Middleware<BffState> {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = CLIENT_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HttpProblem('NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
      }
    } catch (error) {
      let known = asHttpProblem(error);
      if (!known) {
        logger.error({ requestId, err: error }, 'unhandled error');
        known = new HttpProblem(
          'INTERNAL',
          'the server failed to handle this request; quote the requestId when reporting it',
        );
      }
      ctx.status = known.status;
      ctx.type = 'application/problem+json';
      ctx.body = toProblem(known, requestId);
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      metrics.observe(ctx.method, route, ctx.status, seconds);
      logger.info(
        { requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(seconds * 1000) },
        'request',
      );
    }
  };
}
