// Jaeger v2, the trace viewer of the local stack (issue 18): built from the Go module proxy
// (cli/tools/go-tools.ts), OTLP over HTTP in, traces kept in memory, web UI and query API out, every
// port on loopback. The deployables send their spans to it (OTEL_EXPORTER_OTLP_ENDPOINT).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_ROTATION } from '../../runtime/logger.ts';
import { spawnDetached } from './processes.ts';
import type { StackSettings } from './settings.ts';

/** The web UI and its query API (`/api/traces/<trace id>`). */
export function jaegerUrl(settings: StackSettings): string {
  return `http://127.0.0.1:${settings.ports.jaeger}`;
}

/** Where the deployables send spans: the OTLP/HTTP receiver's base URL (`/v1/traces` is appended). */
export function otlpEndpoint(settings: StackSettings): string {
  return `http://127.0.0.1:${settings.ports.otlp}`;
}

/**
 * Jaeger's configuration (an OpenTelemetry Collector config): only what the stack uses, so it opens
 * three ports, not the dozen of the default all-in-one (Jaeger and Zipkin receivers, sampling,
 * zpages, its own metrics), and two stacks on one machine do not collide.
 */
function config(settings: StackSettings): string {
  return `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
      encoding: json
extensions:
  jaeger_storage:
    backends:
      memory:
        memory:
          max_traces: 50000
  jaeger_query:
    storage:
      traces: memory
    http:
      endpoint: 127.0.0.1:${settings.ports.jaeger}
    grpc:
      endpoint: 127.0.0.1:${settings.ports.jaegerGrpc}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${settings.ports.otlp}
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memory
`;
}

/** Writes the config into the state folder and starts Jaeger on it; returns its pid. */
export function startJaeger(settings: StackSettings, binary: string): number {
  const file = join(settings.stateDir, 'jaeger.yaml');
  writeFileSync(file, config(settings));
  return spawnDetached(binary, ['--config', file], {
    logFile: join(settings.paths.logs, 'jaeger.log'),
    rotation: LOG_ROTATION,
  });
}

/** Serving: its query API answers (the list of services the stored spans name). */
export async function jaegerHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/api/services`, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}
