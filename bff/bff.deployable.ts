// Composition root of the BFF: config → connections → Koa app → listening server.
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, ListenOptions } from 'node:net';
import { z } from 'zod';
import { authEnv, databaseEnv, healthEnv, logEnv, natsEnv, temporalEnv } from '../runtime/config.ts';
import { authzEnv, createAuthz } from '../runtime/authz.ts';
import { connectNats, connectTemporalClient } from '../runtime/connections.ts';
import { defineDeployable } from '../runtime/deployable.ts';
import { announcePort, natsCheck, postgresCheck } from '../runtime/health.ts';
import { createDatabasePool } from '../services/kernel/database.ts';
import { createCounterCommands } from '../services/counter/counter.commands.ts';
import { createBffApp } from './bff.app.ts';
import { malformedRequestResponse } from './problem.ts';
import type { AnyRouteHandler } from './api.router.ts';
import { createTokenVerifier } from './auth.ts';
import { counterHandlers } from './counters.handlers.ts';
import { adminHandlers } from './admin.handlers.ts';
import { tenantHandlers } from './tenants.handlers.ts';
import { createHttpMetrics } from './metrics.ts';
import { registerPipelineMetrics } from './pipeline-metrics.ts';
import { jetstreamManager } from '@nats-io/jetstream';
import { measureLag } from '../runtime/pipeline-lag.ts';
import { eventsStreamEnv } from '../runtime/events-stream.ts';
import { PROJECTION_APPLIED_CHANNEL, PROJECTION_NAMES } from '../services/read-models/projections.ts';
import { createPgListener } from '../runtime/pg-listener.ts';

/** How long a stopping BFF lets requests in flight finish (its pods' grace period is above it). */
const DRAIN_MS = 15_000;

/**
 * The deadline of every Temporal call a request makes. The BFF's client does not retry by itself
 * (runtime/connections.ts): a request that meets an unavailable Temporal answers 503 with
 * Retry-After, and the caller retries; a server that accepts but does not answer costs this long.
 */
const TEMPORAL_DEADLINE_MS = 5_000;

export const bffConfig = logEnv
  .extend(databaseEnv.shape)
  .extend(natsEnv.shape)
  .extend(temporalEnv.shape)
  .extend(authEnv.shape)
  .extend(authzEnv.shape)
  .extend(healthEnv.shape)
  .extend(eventsStreamEnv.shape)
  .extend({
    BFF_HOST: z.string().min(1).default('127.0.0.1'),
    BFF_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    /**
     * Let a second BFF bind the same port (SO_REUSEPORT, Node 22.12+ on Linux): on a shared host
     * network the new pod of a rolling update listens beside the old one, which then drains.
     */
    BFF_REUSE_PORT: z.enum(['true', 'false']).default('false'),
    /** How long an onboarding step waits out an unavailable Postgres, NATS or Temporal before the saga compensates. */
    SAGA_RETRY_HORIZON_MINUTES: z.coerce.number().int().min(1).default(60),
  })
  .refine((c) => Boolean(c.AUTH_JWKS_URL) !== Boolean(c.AUTH_JWKS_FILE), {
    message: 'set exactly one of AUTH_JWKS_URL (production) or AUTH_JWKS_FILE (local dev)',
    path: ['AUTH_JWKS_URL'],
  });

export const bff = defineDeployable({
  name: 'bff',
  config: bffConfig,
  async start(config, { logger, tracing }) {
    const pool = await createDatabasePool(config.DATABASE_URL, { maximumPoolSize: config.DATABASE_POOL_SIZE });
    const nats = await connectNats(config.NATS_URL, 'bff');
    const temporal = await connectTemporalClient(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE, {
      retries: false,
      tracer: tracing.tracer,
    });
    const metrics = createHttpMetrics();
    const authz = createAuthz(config);
    const projectionApplied = createPgListener(config.DATABASE_URL, PROJECTION_APPLIED_CHANNEL, logger);
    const jsm = await jetstreamManager(nats);
    const stream = { name: config.EVENTS_STREAM, subjectPrefix: config.EVENTS_SUBJECT_PREFIX };
    registerPipelineMetrics(metrics.registry, () => measureLag(pool, jsm, stream, PROJECTION_NAMES));
    /** Every Temporal call of these handlers gets the deadline (each handler is its route's own). */
    const withTemporalDeadline = <H extends object>(handlers: H): H => {
      const wrapped: Record<string, AnyRouteHandler> = {};
      for (const [name, handler] of Object.entries(handlers) as [string, AnyRouteHandler][]) {
        wrapped[name] = (input) =>
          temporal.connection.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => handler(input));
      }
      return wrapped as H;
    };
    const app = createBffApp({
      logger,
      metrics,
      tracer: tracing.tracer,
      api: {
        handlers: {
          ...counterHandlers({ pool, counters: createCounterCommands({ pool }), projectionApplied }),
          ...withTemporalDeadline({
            ...adminHandlers({ temporal: temporal.client }),
            ...tenantHandlers({
              pool,
              temporal: temporal.client,
              authz,
              retryHorizonMs: config.SAGA_RETRY_HORIZON_MINUTES * 60_000,
            }),
          }),
        },
        verify: createTokenVerifier({
          issuer: config.AUTH_ISSUER,
          audience: config.AUTH_AUDIENCE,
          maxLifetimeSeconds: config.AUTH_MAX_TOKEN_LIFETIME_SECONDS,
          ...(config.AUTH_JWKS_URL ? { jwksUrl: config.AUTH_JWKS_URL } : {}),
          ...(config.AUTH_JWKS_FILE ? { jwksFile: config.AUTH_JWKS_FILE } : {}),
        }),
        authz,
      },
      readiness: {
        postgres: postgresCheck(pool),
        nats: natsCheck(nats),
        temporal: async () => {
          await temporal.connection.withDeadline(Date.now() + 2_000, () => temporal.connection.healthService.check({}));
        },
      },
    });
    const handle = app.callback();
    const server = createServer((request, response) => {
      void handle(request, response); // Koa answers every error itself (bff/request.middleware.ts)
    });
    server.listen({
      port: config.BFF_PORT,
      host: config.BFF_HOST,
      reusePort: config.BFF_REUSE_PORT === 'true',
    } as ListenOptions);
    // Keep idle connections longer than clients and proxies do (Node closes them after 5 s, a common
    // client keeps its own for 4 s): whoever closes an idle connection must be the side that would
    // otherwise send the next request on it, or that request meets a closed socket ("other side closed").
    server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      // What Node's parser refuses gets a problem+json 400 (Node's own answer is a bare 400); a slow
      // request still gets Node's 408; a socket the client already dropped just goes.
      if (!socket.writable) socket.destroy();
      else if (error.code?.startsWith('HPE_')) socket.end(malformedRequestResponse(error.message));
      else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT')
        socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    // While draining, every response closes its connection, so keep-alive clients reconnect elsewhere.
    let draining = false;
    server.on('request', (_request, response: ServerResponse) => {
      if (draining) response.shouldKeepAlive = false;
    });
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    announcePort(config.HEALTH_PORT_FILE, port);
    logger.info({ url: `http://${config.BFF_HOST}:${port}` }, 'BFF listening');
    return {
      async stop() {
        draining = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Requests in flight finish; a connection still busy after the drain time is cut.
        const cut = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
        await closed;
        clearTimeout(cut);
        await temporal.connection.close();
        await projectionApplied.close();
        await nats.drain();
        await pool.end();
      },
    };
  },
});
