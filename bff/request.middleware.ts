// Top of the BFF's middleware chain: request id, trace span, access log, metrics, and the one error path.
import { randomUUID } from 'node:crypto';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { Context, Middleware } from 'koa';
import { unavailableDependency } from '../runtime/failures.ts';
import type { Logger } from '../runtime/logger.ts';
import { traceparentOf } from '../runtime/tracing.ts';
import type { HttpMetrics } from './metrics.ts';
import { asHttpProblem, HttpProblem, toProblem } from './problem.ts';

export interface BffState {
  requestId: string;
}

const CLIENT_REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Seconds a client is told to wait (Retry-After) when a dependency is unavailable. */
export const RETRY_AFTER_SECONDS = 5;

/** nginx's status for a request the client gave up on: logged and counted, never sent. */
export const CLIENT_CLOSED_REQUEST = 499;

/** The client closed its connection before the response went out. */
function clientGone(ctx: Context): boolean {
  return !ctx.res.writableEnded && ctx.req.socket.destroyed; // (the request stream itself ends destroyed after its body is read)
}

/**
 * Every response carries X-Request-Id, and every log line of the request the same id; one access
 * line per request (no per-request child logger: the id is a field of the lines themselves).
 * Each request is a server span named by its route template, continuing the caller's `traceparent`;
 * when traced, the response carries the span's `traceparent` and its trace id as `X-Trace-Id`, and
 * everything the request does (Temporal calls, queries, outbox events) is a descendant of it.
 */
export function requestMiddleware(
  logger: Logger,
  metrics: HttpMetrics,
  tracer: Tracer = trace.getTracer('bff'),
): Middleware<BffState> {
  /** A dependency that is down answers 503 UNAVAILABLE, logged once as a warning without a stack. */
  const unavailable = (error: unknown, requestId: string): HttpProblem | undefined => {
    const dependency = unavailableDependency(error);
    if (!dependency) return undefined;
    logger.warn({ requestId, dependency, err: { message: (error as Error).message } }, 'dependency unavailable');
    return new HttpProblem(
      'UNAVAILABLE',
      `${dependency === 'network' ? 'a dependency' : dependency} is unavailable; retry after ${RETRY_AFTER_SECONDS} s with the same Idempotency-Key`,
      { dependency },
    );
  };
  const internal = (error: unknown, requestId: string): HttpProblem => {
    logger.error({ requestId, err: error }, 'unhandled error');
    return new HttpProblem(
      'INTERNAL',
      'the server failed to handle this request; quote the requestId when reporting it',
    );
  };
  return (ctx, next) => {
    const parent = propagation.extract(context.active(), ctx.headers);
    const span = tracer.startSpan(ctx.method, { kind: SpanKind.SERVER }, parent);
    const traced = trace.setSpan(parent, span);
    const { traceId } = span.spanContext();
    const traceparent = span.isRecording() ? traceparentOf(traced) : undefined;
    if (traceparent) {
      ctx.set('traceparent', traceparent);
      ctx.set('X-Trace-Id', traceId);
    }
    return context
      .with(traced, () => handle(ctx, next))
      .finally(() => {
        const route = (ctx as { _matchedRoute?: string })._matchedRoute;
        span.updateName(route ? `${ctx.method} ${route}` : ctx.method);
        span.setAttributes({
          'http.request.method': ctx.method,
          'url.path': ctx.path,
          'http.response.status_code': ctx.status,
          'request.id': ctx.state.requestId,
          ...(route ? { 'http.route': route } : {}),
        });
        if (ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      });
  };

  async function handle(ctx: Parameters<Middleware<BffState>>[0], next: () => Promise<unknown>): Promise<void> {
    const incoming = ctx.get('x-request-id');
    const requestId = CLIENT_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    try {
      await next();
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
        if (ctx.response.get('Allow'))
          throw new HttpProblem('METHOD_NOT_ALLOWED', `${ctx.path} does not take ${ctx.method}`);
        ctx.status = 404; // a method no router knows, on a path none serves
      }
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HttpProblem('NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
      }
    } catch (error) {
      if (clientGone(ctx)) return; // nobody to answer; the access line below says so
      const known = asHttpProblem(error) ?? unavailable(error, requestId) ?? internal(error, requestId);
      if (known.code === 'UNAVAILABLE') ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
      ctx.status = known.status;
      ctx.type = 'application/problem+json';
      ctx.body = toProblem(known, requestId);
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      const aborted = clientGone(ctx);
      const status = aborted ? CLIENT_CLOSED_REQUEST : ctx.status;
      metrics.observe(ctx.method, route, status, seconds);
      logger.info(
        { requestId, method: ctx.method, path: ctx.path, status, ms: Math.round(seconds * 1000) },
        aborted ? 'request aborted by the client' : 'request',
      );
    }
  }
}
