// Runs one Temporal worker as part of a deployable, with its own /healthz, /readyz and /metrics
// port, and stops it by draining: shutdown() lets in-flight activity and workflow tasks finish
// before the connection closes. Its workflow code is the prebuilt bundle of its task queue when
// running compiled, the sources under tsx (runtime/workflow-bundles.ts).
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import { NativeConnection, Worker, type ActivityInterceptorsFactory, type WorkerOptions } from '@temporalio/worker';
import { trace } from '@opentelemetry/api';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { TaskQueue } from '../contracts/workflow-names.ts';
import { claimCoreMetrics, type Running, type StartContext } from './deployable.ts';
import { startHealthServer, type ReadinessChecks } from './health.ts';
import { WORKFLOW_INTERCEPTORS, workflowSource } from './workflow-bundles.ts';

export interface WorkerSpec {
  address: string;
  namespace: string;
  taskQueue: TaskQueue;
  /** Whether this worker runs its task queue's workflows (else activities only). */
  workflows: boolean;
  activities?: WorkerOptions['activities'];
  http: { host: string; port: number; portFile?: string | undefined };
  /** Readiness beyond the worker's own (e.g. the database its activities use). */
  checks?: ReadinessChecks;
  /** Closed after the worker drains (pools, NATS connections the activities use). */
  closeAfter?: () => Promise<void>;
}

export interface RunningWorker extends Running {
  /** The health port actually bound (when 0 was asked for). */
  httpPort: number;
}

/**
 * The tracing of a traced task queue (runtime/workflow-bundles.ts): each activity is a span, child of
 * the workflow's, named by its step and carrying the tenant; the workflow's own spans are exported
 * through the `exporter` sink, with the deployable's service name.
 */
function traced(context: StartContext, workflowModules: string[]): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  const { tracer, processor, resource } = context.tracing;
  const stepAttributes: ActivityInterceptorsFactory = () => ({
    inbound: {
      execute(input, next) {
        const { tenantId, step } = (input.args[0] ?? {}) as { tenantId?: unknown; step?: unknown };
        const span = trace.getActiveSpan();
        if (typeof tenantId === 'string') span?.setAttribute('tenant.id', tenantId);
        if (typeof step === 'string') span?.setAttribute('saga.step', step);
        return next(input);
      },
    },
  });
  return {
    interceptors: {
      workflowModules,
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
        stepAttributes,
      ],
    },
    sinks: { exporter: makeWorkflowExporter(processor, resource) },
  };
}

/** The Temporal core's metrics text, or a comment saying why it is missing (never a failed scrape). */
async function temporalCoreMetrics(address: string): Promise<string> {
  try {
    const response = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? await response.text() : `# temporal core metrics: HTTP ${response.status}\n`;
  } catch (error) {
    return `# temporal core metrics unavailable: ${(error as Error).message}\n`;
  }
}

export async function startWorker(spec: WorkerSpec, context: StartContext): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({ address: spec.address });
  const source = spec.workflows ? workflowSource(spec.taskQueue) : undefined;
  const worker = await Worker.create({
    connection,
    namespace: spec.namespace,
    taskQueue: spec.taskQueue,
    ...(spec.activities ? { activities: spec.activities } : {}),
    ...source,
    ...(WORKFLOW_INTERCEPTORS[spec.taskQueue].length > 0
      ? traced(context, source && 'interceptors' in source ? source.interceptors.workflowModules : [])
      : {}),
  });
  const runUntilShutdown = worker.run();
  runUntilShutdown.catch((error: unknown) => context.fail(error));
  context.logger.info({ taskQueue: spec.taskQueue }, 'worker polling');

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labels = { task_queue: spec.taskQueue };
  new Gauge({
    name: 'temporal_worker_polling',
    help: '1 while the worker polls its task queue',
    labelNames: ['task_queue'],
    registers: [registry],
    collect() {
      this.set(labels, worker.getState() === 'RUNNING' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'temporal_worker_in_flight_activities',
    help: 'Activities this worker is running now',
    labelNames: ['task_queue'],
    registers: [registry],
    collect() {
      this.set(labels, worker.getStatus().numInFlightActivities);
    },
  });
  const coreMetrics = claimCoreMetrics();
  const health = await startHealthServer({
    ...spec.http,
    registry,
    ...(coreMetrics ? { moreMetrics: () => temporalCoreMetrics(coreMetrics) } : {}),
    logger: context.logger,
    checks: {
      worker: async () => {
        const status = worker.getStatus();
        if (status.runState !== 'RUNNING') throw new Error(`worker is ${status.runState}`);
      },
      temporal: async () => {
        await connection.withDeadline(Date.now() + 2_000, () => connection.healthService.check({}));
      },
      ...spec.checks,
    },
  });
  return {
    httpPort: health.port,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      // A failed run was reported through context.fail when it happened; here we only wait for the end.
      await runUntilShutdown.catch(() => undefined);
      await connection.close();
      await spec.closeAfter?.();
      await health.close();
    },
  };
}
