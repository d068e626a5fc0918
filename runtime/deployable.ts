// The lifecycle every deployable shares: parse its config from env, start, stop cleanly on SIGTERM.
// One process can run any set of deployables (the all-in-one topology) with the same code.
import { createServer, type AddressInfo } from 'node:net';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { z } from 'zod';
import { ConfigError, logEnv, parseEnv } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { startTracing, tracingEnv, type DeployableTracing, type Tracing } from './tracing.ts';

export const DEPLOYABLE_NAMES = ['bff', 'saga-worker', 'relay', 'projector'] as const;
export type DeployableName = (typeof DEPLOYABLE_NAMES)[number];

/** A started deployable; `stop` drains work and closes its connections. */
export interface Running {
  stop(): Promise<void>;
}

export interface StartContext {
  logger: Logger;
  /** The deployable's tracer (a no-op one when no OTLP endpoint is set; runtime/tracing.ts). */
  tracing: DeployableTracing;
  /** Call when something the deployable runs dies on its own; the process then shuts down with exit code 1. */
  fail(error: unknown): void;
}

export interface Deployable<Schema extends z.ZodType = z.ZodType> {
  name: DeployableName;
  config: Schema;
  start(config: z.infer<Schema>, context: StartContext): Promise<Running>;
}

/** Declares a deployable with its config type inferred from its schema. */
export function defineDeployable<Schema extends z.ZodType>(deployable: Deployable<Schema>): Deployable<Schema> {
  return deployable;
}

/**
 * Starts `deployables` in order in this process and stops them in reverse on SIGTERM/SIGINT or when
 * one fails. Config problems of all of them are reported together, as text, before anything starts.
 */
export async function runDeployables(deployables: Deployable[], env: NodeJS.ProcessEnv): Promise<void> {
  let configs: unknown[];
  let logger: Logger;
  let tracing: Tracing;
  try {
    const { LOG_LEVEL, NODE_ENV, LOG_FILE } = parseEnv(logEnv, env, 'logging');
    logger = createLogger({
      level: LOG_LEVEL,
      name: deployables.map((d) => d.name).join('+'),
      production: NODE_ENV === 'production',
      ...(LOG_FILE ? { file: LOG_FILE } : {}),
    });
    const errors: string[] = [];
    /** A parsed config, or undefined with its problems noted: all are reported together. */
    const parsed = <S extends z.ZodType>(schema: S, who: string): z.infer<S> | undefined => {
      try {
        return parseEnv(schema, env, who);
      } catch (error) {
        errors.push((error as Error).message);
        return undefined;
      }
    };
    configs = deployables.map((d) => parsed(d.config, d.name));
    const tracingConfig = parsed(tracingEnv, 'tracing');
    if (errors.length > 0 || !tracingConfig) throw new ConfigError(errors.join('\n'));
    tracing = startTracing(
      tracingConfig,
      deployables.map((d) => d.name),
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(78); // EX_CONFIG
  }

  const workers = deployables.some((d) => d.name !== 'bff');
  installTemporalRuntime(logger, workers ? `127.0.0.1:${await freeLoopbackPort()}` : undefined);
  logger.info(
    tracing.enabled ? { traces: tracing.endpoint } : {},
    tracing.enabled ? 'tracing on: spans go by OTLP' : 'tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)',
  );
  const running: { name: string; instance: Running }[] = [];
  let starting: Promise<unknown> | undefined;
  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string, exitCode: number): Promise<void> => {
    stopping ??= (async () => {
      logger.info({ reason }, 'shutting down');
      // A signal during start-up waits for the deployable being started, then stops it too.
      await starting?.catch(() => undefined);
      for (const { name, instance } of [...running].reverse()) {
        try {
          await instance.stop();
          logger.info({ deployable: name }, 'stopped');
        } catch (error) {
          logger.error({ deployable: name, err: error }, 'stop failed');
          exitCode = 1;
        }
      }
      await tracing.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'spans not exported'));
      process.exit(exitCode);
    })();
    return stopping;
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => void shutdown(signal, 0));
  }

  for (const [index, deployable] of deployables.entries()) {
    if (stopping) return;
    const child = logger.child({ deployable: deployable.name });
    const context: StartContext = {
      logger: child,
      tracing: tracing.of(deployable.name),
      fail: (error) => {
        child.fatal({ err: error }, 'deployable failed');
        void shutdown(`${deployable.name} failed`, 1);
      },
    };
    try {
      starting = deployable.start(configs[index], context).then((instance) => {
        running.push({ name: deployable.name, instance });
        child.info('started');
      });
      await starting;
    } catch (error) {
      child.fatal({ err: error }, 'start failed');
      await shutdown(`${deployable.name} could not start`, 1);
      return;
    }
  }
}

let coreMetricsAddress: string | undefined;

/**
 * Where the Temporal core's Prometheus metrics of this process are served (task latencies, slot
 * usage, polls, workflow metrics), for the first worker that asks: it appends them to its own
 * /metrics (runtime/worker.ts). One answer per process, so the all-in-one process does not show
 * them three times.
 */
export function claimCoreMetrics(): string | undefined {
  const address = coreMetricsAddress;
  coreMetricsAddress = undefined;
  return address;
}

/** A port on 127.0.0.1 that was free a moment ago. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Routes the Temporal SDK's own log lines (worker, core) into our pino logger; with `metricsAddress`
 * (a process that runs workers), the core serves its metrics there, on loopback only.
 */
function installTemporalRuntime(logger: Logger, metricsAddress: string | undefined): void {
  const sdkLogger = logger.child({ component: 'temporal-sdk' });
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace',
    DEBUG: 'debug',
    INFO: 'info',
    WARN: 'warn',
    ERROR: 'error',
  };
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) => sdkLogger[levels[entry.level]](entry.meta ?? {}, entry.message)),
    ...(metricsAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress, useSecondsForDurations: true } } } }
      : {}),
  });
  coreMetricsAddress = metricsAddress;
}
