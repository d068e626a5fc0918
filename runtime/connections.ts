// Connection factories for the servers every deployable talks to. Services never import these.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Client, Connection } from '@temporalio/client';

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

/**
 * A Temporal client (starting, signalling, querying workflows) and its connection (health, close).
 * With `retries: false` a failed call fails at once instead of being retried by the SDK's gRPC
 * interceptor (about 20 s); a retry timer of that interceptor can also outlive `close()` and then
 * throws "Channel has been shut down" from a timer, which is what an HTTP server must not do.
 */
export async function connectTemporalClient(
  address: string,
  namespace: string,
  options: { retries?: boolean } = {},
): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address, ...(options.retries === false ? { interceptors: [] } : {}) });
  return { client: new Client({ connection, namespace }), connection };
}
