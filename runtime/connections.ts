// Connection factories for the servers every deployable talks to. Services never import these.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Client, Connection } from '@temporalio/client';

export type { NatsConnection };

export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
}

/** A Temporal client (starting, signalling, querying workflows) and its connection (health, close). */
export async function connectTemporalClient(
  address: string,
  namespace: string,
): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address });
  return { client: new Client({ connection, namespace }), connection };
}
