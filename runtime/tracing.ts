// OpenTelemetry tracing of a process, configured by the standard OTEL_* variables: spans go by OTLP
// (http/protobuf) to OTEL_EXPORTER_OTLP_ENDPOINT, or nowhere when no endpoint is set (the API's
// no-op tracer then costs next to nothing). Each deployable gets a tracer of its own, whose spans
// carry its name as `service.name`, so the all-in-one process still shows the BFF, the saga worker,
// the relay and the projector as four services; spans of shared libraries (slonik's queries) carry
// the process's name. W3C trace context and baggage are the propagators.
import { context, propagation, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NoopSpanProcessor,
  type ReadableSpan,
  type Span as SdkSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { z } from 'zod';
import type { DeployableName } from './deployable.ts';

const url = z.url({ protocol: /^https?$/, error: 'must be an http(s):// URL, e.g. http://127.0.0.1:4318' });

/** The OTEL_* variables read here; the exporter and the sampler read the rest of the standard set themselves. */
export const tracingEnv = z.object({
  OTEL_SDK_DISABLED: z.enum(['true', 'false']).default('false'),
  /** Base URL of an OTLP/HTTP receiver; traces go to `<endpoint>/v1/traces`. */
  OTEL_EXPORTER_OTLP_ENDPOINT: url.optional(),
  /** The full traces URL, when it is not `<endpoint>/v1/traces`. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z
    .enum(['http/protobuf'], { error: 'only http/protobuf is built in (OTLP over HTTP, port 4318 by convention)' })
    .optional(),
  /** Overrides the service name of the process (its deployables' names otherwise). */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
});
type TracingEnv = z.infer<typeof tracingEnv>;

/** What a deployable traces with: its tracer, and the processor and resource its workflow spans are exported with. */
export interface DeployableTracing {
  tracer: Tracer;
  processor: SpanProcessor;
  resource: Resource;
}

export interface Tracing {
  /** True when spans are exported (an endpoint is set and the SDK is not disabled). */
  enabled: boolean;
  /** Where spans go, for the start-up log line. */
  endpoint: string | undefined;
  of(deployable: DeployableName): DeployableTracing;
  /** Exports what is buffered and stops; call once, last. */
  shutdown(): Promise<void>;
}

/**
 * slonik's spans that tell nothing their parent does not: each interceptor hook of a query
 * (`slonik.interceptor.transformRow`, …) and the pool's inner `slonik.connection.acquire` (inside
 * `slonik.acquireConnection`, which is kept). They have no children; on the command path they are
 * half of a request's spans, so they are not exported (see the bench's tracing row in README).
 */
export const QUIET_SPANS = /^slonik\.(interceptor\.|connection\.acquire$)/;

/** Passes every span but the quiet ones on to `next`. */
export class WithoutQuietSpans implements SpanProcessor {
  constructor(private readonly next: SpanProcessor) {}
  onStart(span: SdkSpan, parent: Context): void {
    this.next.onStart(span, parent);
  }
  onEnd(span: ReadableSpan): void {
    if (!QUIET_SPANS.test(span.name)) this.next.onEnd(span);
  }
  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}

/**
 * The tracing of a process that runs `deployables`. When enabled, the global provider is registered;
 * when not, every tracer is the API's no-op one (no span is recorded, no response gets a trace id).
 */
export function startTracing(config: TracingEnv, deployables: readonly DeployableName[]): Tracing {
  const endpoint =
    config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (config.OTEL_EXPORTER_OTLP_ENDPOINT
      ? `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces`
      : undefined);
  const enabled = config.OTEL_SDK_DISABLED === 'false' && endpoint !== undefined;
  const providers: NodeTracerProvider[] = [];
  /** A provider when enabled; when not, only what the workflow-span sink needs (a no-op processor). */
  const provide = (serviceName: string) => {
    const resource = envDetectorSync.detect().merge(new Resource({ 'service.name': serviceName }));
    if (!enabled) return { provider: undefined, processor: new NoopSpanProcessor(), resource };
    const processor = new WithoutQuietSpans(new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint })));
    const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
    providers.push(provider);
    return { provider, processor, resource };
  };
  const processName = config.OTEL_SERVICE_NAME ?? deployables.join('+');
  const global = provide(processName);
  global.provider?.register();
  const own = new Map<DeployableName, DeployableTracing>();
  return {
    enabled,
    endpoint,
    of(deployable) {
      let found = own.get(deployable);
      if (!found) {
        const { provider, processor, resource } =
          deployables.length === 1 ? global : provide(config.OTEL_SERVICE_NAME ?? deployable);
        const name = `durable-workflow-backend/${deployable}`;
        found = { tracer: provider?.getTracer(name) ?? trace.getTracer(name), processor, resource };
        own.set(deployable, found);
      }
      return found;
    },
    async shutdown() {
      await Promise.all(providers.map((p) => p.shutdown()));
    },
  };
}

/** The W3C `traceparent` of `ctx` (the active context by default), if it holds a valid span. */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** The context a `traceparent` (and `tracestate`) continue, for a span's parent or a link. */
export function contextOf(carrier: { traceparent?: unknown; tracestate?: unknown }): Context {
  const headers: Record<string, string> = {};
  if (typeof carrier.traceparent === 'string') headers.traceparent = carrier.traceparent;
  if (typeof carrier.tracestate === 'string') headers.tracestate = carrier.tracestate;
  return propagation.extract(context.active(), headers);
}

/** Ends `spans`, each marked failed with the error's message when there is one. */
export function endSpans(spans: readonly Span[], error?: unknown): void {
  for (const span of spans) {
    if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    span.end();
  }
}

/** Log fields of the active span (pino's `mixin`): every line inside a traced context carries them. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan()?.spanContext();
  return span && trace.isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : {};
}
