// Tracing's configuration: off records nothing, the endpoint variables, the refused protocol, and the
// slonik spans that are not exported.
import assert from 'node:assert/strict';
import { context, propagation, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, it } from 'mocha';
import { startTracing, tracingEnv, WithoutQuietSpans, type Tracing } from './tracing.ts';

describe('tracing', () => {
  let started: Tracing | undefined;
  afterEach(async () => {
    await started?.shutdown();
    started = undefined;
    // An enabled start registers the process's provider; the next test starts from the bare API again.
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('is off without an endpoint: every tracer is the no-op one, so no span is recorded', () => {
    started = startTracing(tracingEnv.parse({}), ['bff', 'relay']);
    assert.equal(started.enabled, false);
    assert.equal(started.endpoint, undefined);
    for (const deployable of ['bff', 'relay'] as const)
      assert.equal(started.of(deployable).tracer.startSpan('request').isRecording(), false);
  });

  it('is off with OTEL_SDK_DISABLED=true even when an endpoint is set, and registers no provider', () => {
    started = startTracing(
      tracingEnv.parse({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }),
      ['bff'],
    );
    assert.equal(started.enabled, false);
    assert.equal(started.of('bff').tracer.startSpan('request').isRecording(), false);
    assert.equal(trace.getTracer('any').startSpan('query').isRecording(), false);
  });

  it('sends spans to <endpoint>/v1/traces, or to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT when set', async () => {
    started = startTracing(tracingEnv.parse({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/' }), ['bff']);
    assert.equal(started.enabled, true);
    assert.equal(started.endpoint, 'http://127.0.0.1:4318/v1/traces');
    // Enabled: the deployable's tracer and the process's global one (slonik's queries) both record.
    assert.equal(started.of('bff').tracer.startSpan('request').isRecording(), true);
    assert.equal(trace.getTracer('any').startSpan('query').isRecording(), true);
    await started.shutdown();
    started = startTracing(
      tracingEnv.parse({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector.example:4318/custom/traces',
      }),
      ['bff'],
    );
    assert.equal(started.endpoint, 'http://collector.example:4318/custom/traces');
  });

  it('refuses a protocol other than http/protobuf and an endpoint that is not a URL, naming the fix', () => {
    const grpc = tracingEnv.safeParse({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    assert.equal(grpc.success, false);
    assert.match(grpc.error.issues[0]!.message, /only http\/protobuf/);
    const notUrl = tracingEnv.safeParse({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' });
    assert.equal(notUrl.success, false);
    assert.match(notUrl.error.issues[0]!.message, /http\(s\):\/\/ URL/);
  });

  it("exports every span but slonik's interceptor hooks and its inner pool acquire", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new WithoutQuietSpans(new SimpleSpanProcessor(exporter))],
    });
    const tracer = provider.getTracer('test');
    const names = [
      'POST /v1/tenants/:tenantId/counters/:counterId/increment',
      'slonik.acquireConnection',
      'slonik.connection.acquire',
      'slonik.executeQuery',
      'slonik.interceptor.transformRow',
      'slonik.interceptor.afterQueryExecution',
      'outbox insert',
    ];
    for (const name of names) tracer.startSpan(name).end();
    await provider.forceFlush();
    assert.deepEqual(
      exporter.getFinishedSpans().map((span) => span.name),
      [
        'POST /v1/tenants/:tenantId/counters/:counterId/increment',
        'slonik.acquireConnection',
        'slonik.executeQuery',
        'outbox insert',
      ],
    );
    await provider.shutdown();
  });
});
