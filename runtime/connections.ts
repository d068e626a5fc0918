// Connection factories for the servers every deployable talks to. Services never import these.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Tracer } from '@opentelemetry/api';
import { Client, Connection, makeGrpcRetryInterceptor, type GrpcRetryOptions } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';

export type { NatsConnection };

/** The prefix of a NATS user's reply subjects: its permissions let nobody else subscribe to its replies. */
export function inboxPrefixOf(user: string): string {
  return `_INBOX_${user.replace(/[^A-Za-z0-9]/g, '_')}`;
}

/**
 * Connects to NATS_URL, reconnecting without end. Credentials in the URL (`nats://user:password@host:port`,
 * percent-encoded) are passed as user and password: nats.js ignores them in a server URL, and reads
 * a password that starts with a digit as the port. Replies come to the user's own inbox prefix.
 */
export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  const parsed = new URL(url);
  const user = decodeURIComponent(parsed.username);
  const credentials = user ? { user, pass: decodeURIComponent(parsed.password), inboxPrefix: inboxPrefixOf(user) } : {};
  parsed.username = '';
  parsed.password = '';
  return connect({
    servers: parsed.toString().replace(/\/$/, ''),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    ...credentials,
  });
}

/** gRPC RESOURCE_EXHAUSTED: Temporal refuses a call for now (a busy workflow, a rate limit), while up. */
const GRPC_RESOURCE_EXHAUSTED = 8;

/** Without the SDK's retries, a call Temporal refused as busy is still tried this often, this far apart. */
export const BUSY_RETRY = { attempts: 4, firstDelayMs: 50 } as const;

/**
 * The retries of a client that otherwise fails at once: only RESOURCE_EXHAUSTED, BUSY_RETRY.attempts
 * in all, 50, 100, 200 ms apart (350 ms at most). Seen when several signals meet a workflow that is
 * completing: an answer a moment later is right, a 503 is not. An unavailable Temporal is not retried.
 */
export const busyRetry: GrpcRetryOptions = {
  retryableDecider: (attempt, status) =>
    Number(status.code) === GRPC_RESOURCE_EXHAUSTED && attempt < BUSY_RETRY.attempts,
  delayFunction: (attempt) => BUSY_RETRY.firstDelayMs * 2 ** (attempt - 1),
};

/**
 * A Temporal client (starting, signalling, querying workflows) and its connection (health, close).
 * With `retries: false` a failed call fails at once instead of being retried by the SDK's gRPC
 * interceptor (about 20 s); a retry timer of that interceptor can also outlive `close()` and then
 * throws "Channel has been shut down" from a timer, which is what an HTTP server must not do. Only
 * a call refused as busy is retried, briefly (`busyRetry`). With `tracer`, starting or signalling
 * a workflow is a span whose context travels to the workflow in its headers (the official
 * OpenTelemetry interceptor), so the workflow's and its activities' spans join the caller's trace.
 */
export async function connectTemporalClient(
  address: string,
  namespace: string,
  options: { retries?: boolean; tracer?: Tracer } = {},
): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({
    address,
    ...(options.retries === false ? { interceptors: [makeGrpcRetryInterceptor(busyRetry)] } : {}),
  });
  const interceptors = options.tracer
    ? { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer: options.tracer })] }
    : {};
  return { client: new Client({ connection, namespace, interceptors }), connection };
}
