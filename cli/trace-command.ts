// `npm run trace -- <trace id>`: one trace of the local stack's Jaeger as a tree of spans, e.g. the
// X-Trace-Id a BFF response carried — the request, the saga's workflow and activities, the outbox
// insert, the relay's publish and the projector's apply, with the service of each.
import { fetchTrace, traceTree } from './traces.ts';
import { jaegerUrl } from './stack/jaeger.ts';
import type { StackSettings } from './stack/settings.ts';

const USAGE = `usage: npm run trace -- <trace id> [--test]
  prints the spans of one trace (32 hex digits, e.g. a response's X-Trace-Id) held by the stack's Jaeger`;

export async function runTraceCommand(args: string[], settings: StackSettings, say: (line: string) => void) {
  const traceId = args.find((a) => !a.startsWith('--'));
  if (!traceId || !/^[0-9a-f]{32}$/.test(traceId)) {
    say(`✗ ${traceId ? `${traceId} is not a trace id` : 'which trace?'}\n${USAGE}`);
    return 64;
  }
  const url = jaegerUrl(settings);
  const spans = await fetchTrace(url, traceId).catch((error: unknown) => {
    throw new Error(`Jaeger at ${url} did not answer (${(error as Error).message}): is the stack up (\`npm run up\`)?`);
  });
  if (spans.length === 0) {
    say(`✗ Jaeger (${url}) holds no span of trace ${traceId} (yet: spans are exported within seconds)`);
    return 1;
  }
  for (const line of traceTree(spans)) process.stdout.write(`${line}\n`);
  say(`✓ ${spans.length} spans of ${new Set(spans.map((s) => s.service)).size} services`);
  return 0;
}
