// Health endpoints every deployable serves: /healthz (the process answers), /readyz (what it
// depends on answers; 503 names what fails) and /metrics (Prometheus text). The BFF mounts them on
// its Koa app (bff/health.routes.ts); a worker serves them on a small HTTP port of its own.
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Registry } from 'prom-client';
import { sql } from 'slonik';
import type { DatabasePool } from '../services/kernel/database.ts';
import type { Logger } from './logger.ts';

/** A named dependency probe; it throws (or times out) when the dependency is not usable. */
export type ReadinessChecks = Record<string, () => Promise<void>>;

const CHECK_TIMEOUT_MS = 2_000;

/** Postgres answers a query on this pool. */
export const postgresCheck = (pool: DatabasePool) => async () => {
  await pool.query(sql.unsafe`select 1`);
};

/** The NATS connection is open and the server answers a round trip. */
export const natsCheck = (nats: NatsConnection) => async () => {
  if (nats.isClosed()) throw new Error('connection closed');
  await nats.flush();
};

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

/** Runs every check at once; ready when all answer within their time. */
export async function readiness(checks: ReadinessChecks): Promise<{ ready: boolean; body: object }> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((name) => probe(checks[name]!)));
  const ready = results.every((result) => result === 'ok');
  return {
    ready,
    body: { status: ready ? 'ready' : 'unready', checks: Object.fromEntries(names.map((n, i) => [n, results[i]])) },
  };
}

/** Writes the bound port where an exec probe reads it (runtime/probe.main.ts); nothing without a file. */
export function announcePort(file: string | undefined, port: number): void {
  if (file) writeFileSync(file, `${port}\n`);
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** Serves /healthz, /readyz and /metrics on host:port (port 0: any free port). */
export async function startHealthServer(options: {
  host: string;
  port: number;
  checks: ReadinessChecks;
  registry: Registry;
  /** More Prometheus text appended to /metrics (the Temporal core's, runtime/worker.ts). */
  moreMetrics?: () => Promise<string>;
  logger: Logger;
  portFile?: string;
}): Promise<HealthServer> {
  const server = createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    const answer = async () => {
      if (req.method !== 'GET') return send(405, 'application/json', '{"status":"method not allowed"}');
      if (path === '/healthz') return send(200, 'application/json', '{"status":"ok"}');
      if (path === '/readyz') {
        const { ready, body } = await readiness(options.checks);
        return send(ready ? 200 : 503, 'application/json', JSON.stringify(body));
      }
      if (path === '/metrics') {
        const more = (await options.moreMetrics?.()) ?? '';
        return send(200, options.registry.contentType, `${await options.registry.metrics()}\n${more}`);
      }
      return send(404, 'application/json', '{"status":"not found"}');
    };
    answer().catch((error: unknown) => {
      options.logger.error({ err: error, path }, 'health endpoint failed');
      if (!res.headersSent) send(500, 'application/json', '{"status":"error"}');
    });
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  announcePort(options.portFile, port);
  options.logger.info({ host: options.host, port }, 'health endpoints listening (/healthz, /readyz, /metrics)');
  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
