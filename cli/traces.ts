// Reading a trace back from Jaeger's query API (`/api/traces/<trace id>`, the API its UI uses), as
// the spans of one trace with their service and parent: printed as a tree by `npm run trace`, and
// asserted on by the stack e2e.
import { z } from 'zod';

const jaegerTrace = z.object({
  data: z.array(
    z.object({
      traceID: z.string(),
      spans: z.array(
        z.object({
          traceID: z.string(),
          spanID: z.string(),
          operationName: z.string(),
          processID: z.string(),
          references: z.array(z.object({ refType: z.string(), traceID: z.string(), spanID: z.string() })),
          startTime: z.number(),
          duration: z.number(),
          tags: z.array(z.object({ key: z.string(), value: z.unknown() })),
        }),
      ),
      processes: z.record(z.string(), z.object({ serviceName: z.string() })),
    }),
  ),
});

export interface TraceSpan {
  traceId: string;
  spanId: string;
  name: string;
  service: string;
  /** The parent span (CHILD_OF), if any. */
  parentId: string | undefined;
  /** Spans this one links to (FOLLOWS_FROM), by trace and span id. */
  links: { traceId: string; spanId: string }[];
  tags: Record<string, unknown>;
  startMicros: number;
  durationMicros: number;
}

/** The spans Jaeger holds of trace `traceId` (none yet: an empty list). */
export async function fetchTrace(jaegerUrl: string, traceId: string): Promise<TraceSpan[]> {
  const response = await fetch(`${jaegerUrl}/api/traces/${traceId}`);
  if (response.status === 404) return [];
  if (!response.ok) throw new Error(`jaeger ${response.status}: ${await response.text()}`);
  const trace = jaegerTrace.parse(await response.json()).data[0];
  if (!trace) return [];
  return trace.spans.map((span) => ({
    traceId: span.traceID,
    spanId: span.spanID,
    name: span.operationName,
    service: trace.processes[span.processID]?.serviceName ?? '?',
    parentId: span.references.find((r) => r.refType === 'CHILD_OF')?.spanID,
    links: span.references
      .filter((r) => r.refType === 'FOLLOWS_FROM')
      .map((r) => ({ traceId: r.traceID, spanId: r.spanID })),
    tags: Object.fromEntries(span.tags.map((t) => [t.key, t.value])),
    startMicros: span.startTime,
    durationMicros: span.duration,
  }));
}

/** Polls the trace until `complete` holds (spans are exported in batches, some only when a workflow ends). */
export async function waitForTrace(
  jaegerUrl: string,
  traceId: string,
  complete: (spans: TraceSpan[]) => boolean,
  timeoutMs = 60_000,
): Promise<TraceSpan[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = await fetchTrace(jaegerUrl, traceId);
    if (complete(spans) || Date.now() > deadline) return spans;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The chain of names from `span` up to the trace's root. */
export function ancestry(spans: TraceSpan[], span: TraceSpan): string[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const names: string[] = [];
  for (let at: TraceSpan | undefined = span; at; at = at.parentId ? byId.get(at.parentId) : undefined) {
    names.push(at.name);
    if (names.length > 50) break;
  }
  return names;
}

/** A readable dump of a trace for an assertion message. */
export function describeTrace(spans: TraceSpan[]): string {
  return spans.map((s) => `${s.service}: ${s.name} (${s.spanId} ← ${s.parentId ?? 'root'})`).join('\n');
}

/** The trace as an indented tree, children in start order: `service: name` per line. */
export function traceTree(spans: TraceSpan[]): string[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string | undefined, TraceSpan[]>();
  for (const span of spans) {
    const parent = span.parentId && ids.has(span.parentId) ? span.parentId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const span of (children.get(parent) ?? []).sort((a, b) => a.startMicros - b.startMicros)) {
      const links = span.links.length ? `  (links ${span.links.length})` : '';
      lines.push(
        `${'  '.repeat(depth)}${span.service}: ${span.name}  ${(span.durationMicros / 1000).toFixed(1)} ms${links}`,
      );
      walk(span.spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines;
}
