// Wires the route table in contracts/http-api.ts to handlers: authentication, path/header/body
// authorization of the route's access in OpenFGA (bff/auth.ts), validation of headers and body with
// the contract's zod schemas, then the handler.
import Router, { type RouterMiddleware } from '@koa/router';
import { z } from 'zod';
import { HTTP_ROUTES, type RouteContract } from '../contracts/http-api.ts';
import type { Authz } from '../runtime/authz.ts';
import { authMiddleware, authorize, type Principal, type TokenVerifier } from './auth.ts';
import { readJsonBody } from './json-body.ts';
import { HttpProblem } from './problem.ts';
import type { BffState } from './request.middleware.ts';

type Parsed<T, Otherwise> = T extends z.ZodType ? z.infer<T> : Otherwise;

/** What a handler gets: the route's path, query and body as its contract parsed them, and the caller. */
export interface RouteInput<R extends RouteContract = RouteContract> {
  params: z.infer<R['params']>;
  query: Parsed<R['query'], Record<string, never>>;
  body: Parsed<R['body'], undefined>;
  principal: Principal;
  /** Present on every idempotent route (a missing key is refused before the handler). */
  idempotencyKey: R['idempotent'] extends true
    ? string
    : R['idempotent'] extends false
      ? undefined
      : string | undefined;
  expectedVersion?: number;
  /** The client's If-None-Match, for conditional GETs. */
  ifNoneMatch?: string;
  requestId: string;
}

type HeaderOf<R extends RouteContract> = keyof NonNullable<R['success']['headers']>;
/** Headers a handler sets itself: those its route declares, less the two the router derives. */
type HandlerHeaders<R extends RouteContract> = {
  headers?: Partial<Record<Exclude<HeaderOf<R>, 'ETag' | 'Idempotent-Replayed'>, string>>;
};

/**
 * What a handler answers, typed by its route's contract: the success status and body, `version`
 * (sent as ETag) only where the route declares ETag, `replayed` only where it declares
 * Idempotent-Replayed, other headers only as declared, and 304 only on a route with `notModified`.
 */
export type RouteOutcome<R extends RouteContract = RouteContract> =
  | ({ status: R['success']['status']; body: z.output<R['success']['schema']> } & ('ETag' extends HeaderOf<R>
      ? { version: number }
      : unknown) &
      ('Idempotent-Replayed' extends HeaderOf<R> ? { replayed?: boolean } : unknown) &
      HandlerHeaders<R>)
  | (R['notModified'] extends true ? { status: 304; version: number } & HandlerHeaders<R> : never);

/** Any route's outcome, as the router reads it. */
interface AnyOutcome {
  status: number;
  body?: unknown;
  version?: number;
  replayed?: boolean;
  headers?: Partial<Record<string, string>>;
}

type Route = (typeof HTTP_ROUTES)[number];
export type OperationId = Route['operationId'];
export type RouteOf<K extends OperationId> = Extract<Route, { operationId: K }>;
export type RouteHandler<K extends OperationId> = (input: RouteInput<RouteOf<K>>) => Promise<RouteOutcome<RouteOf<K>>>;
/** One handler per contract route, each typed by its route. */
export type RouteHandlers = { [K in OperationId]: RouteHandler<K> };
/** Any handler, as the router calls it (its input was parsed by the route's own schemas). */
export type AnyRouteHandler = (input: RouteInput) => Promise<AnyOutcome>;

const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,255}$/;
const IF_MATCH = /^"(\d{1,15})"$/;

function validationProblem(what: string, error: z.ZodError): HttpProblem {
  const errors = error.issues.map((issue) => ({ path: issue.path.join('.') || '(root)', message: issue.message }));
  return new HttpProblem('VALIDATION_FAILED', `${what}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, {
    errors,
  });
}

function koaPath(template: string): string {
  return template.replace(/\{(\w+)\}/g, ':$1');
}

function bind(
  route: RouteContract,
  handler: AnyRouteHandler,
  authz: Authz,
): RouterMiddleware<BffState & { principal: Principal }> {
  return async (ctx) => {
    const params = route.params.safeParse(ctx.params);
    if (!params.success) throw validationProblem('invalid path', params.error);
    await authorize(authz, ctx.state.principal, route.access, params.data);

    const input: RouteInput = {
      params: params.data,
      query: {},
      body: undefined,
      principal: ctx.state.principal,
      idempotencyKey: undefined,
      requestId: ctx.state.requestId,
    };
    if (route.query || Object.keys(ctx.query).length > 0) {
      const query = (route.query ?? z.object({}).strict()).safeParse(ctx.query);
      if (!query.success) throw validationProblem('invalid query', query.error);
      input.query = query.data;
    }
    if (route.idempotent) {
      const key = ctx.get('idempotency-key');
      if (!key)
        throw new HttpProblem('IDEMPOTENCY_KEY_MISSING', 'send an Idempotency-Key header, unique per intended change');
      if (!IDEMPOTENCY_KEY.test(key)) {
        throw new HttpProblem('VALIDATION_FAILED', 'Idempotency-Key must be 1-255 visible ASCII characters');
      }
      input.idempotencyKey = key;
    }
    if (route.ifMatch && ctx.headers['if-match'] !== undefined) {
      const version = IF_MATCH.exec(ctx.get('if-match'))?.[1]; // an empty If-Match is refused too
      if (version === undefined)
        throw new HttpProblem('VALIDATION_FAILED', 'If-Match must be a version in quotes, e.g. "3"');
      input.expectedVersion = Number(version);
    }
    if (ctx.get('if-none-match')) input.ifNoneMatch = ctx.get('if-none-match');
    if (route.body) {
      const read = await readJsonBody(ctx);
      const raw = read === undefined && acceptsEmptyObject(route.body) ? {} : read;
      const body = route.body.safeParse(raw);
      if (!body.success) throw validationProblem('invalid body', body.error);
      input.body = body.data;
    } else if (Number(ctx.get('content-length') || 0) > 0) {
      throw new HttpProblem('VALIDATION_FAILED', `${route.method.toUpperCase()} ${route.path} takes no body`);
    }

    const outcome = await handler(input);
    for (const [name, value] of Object.entries(outcome.headers ?? {})) if (value !== undefined) ctx.set(name, value);
    if (outcome.version !== undefined) ctx.set('ETag', `"${outcome.version}"`);
    if (outcome.replayed) ctx.set('Idempotent-Replayed', 'true');
    ctx.status = outcome.status;
    if (outcome.status !== 304) ctx.body = outcome.body;
  };
}

/** A body schema that accepts `{}` (e.g. reset): an empty request body means `{}` for it. */
function acceptsEmptyObject(schema: z.ZodType): boolean {
  return schema.safeParse({}).success;
}

/** The /v1 API: every contract route bound to its handler (missing handlers are a start-up error). */
export function apiRouter(handlers: RouteHandlers, verify: TokenVerifier, authz: Authz): Router<BffState> {
  const router = new Router<BffState & { principal: Principal }>();
  router.use('/v1', authMiddleware(verify));
  for (const route of HTTP_ROUTES) {
    const handler = handlers[route.operationId] as AnyRouteHandler | undefined;
    if (!handler) throw new Error(`no handler for contract route ${route.operationId}`);
    router[route.method](route.operationId, koaPath(route.path), bind(route, handler, authz));
  }
  return router as unknown as Router<BffState>;
}
