// A consumer written only against the AsyncAPI document the BFF serves (/asyncapi.json): it knows no
// contract of ours, only channels (subject patterns), message headers and payload schemas. It reads
// every message of a stream and decodes each by the channel its subject matches.
import type { JetStreamManager } from '@nats-io/jetstream';
import { Ajv, type ValidateFunction } from 'ajv';

interface AsyncApiMessage {
  name: string;
  headers: object;
  payload: object;
}
interface AsyncApiDocument {
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
  components: { messages: Record<string, AsyncApiMessage> };
}

export interface Decoded {
  /** How many messages were decoded, by message name (the event type). */
  byType: Map<string, number>;
  /** Messages no channel matched, or that no message of their channel accepts. */
  failures: string[];
}

/** `events.{tenantId}.counter.X` matches `<any prefix>.<tenant>.counter.X`: the prefix is deployment config. */
function channelMatcher(address: string): RegExp {
  const [, ...rest] = address.split('.');
  const parts = rest.map((part) => (/^\{\w+\}$/.test(part) ? '[^.]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^[^.]+\\.${parts.join('\\.')}$`);
}

export async function decodeStream(document: unknown, jsm: JetStreamManager, stream: string): Promise<Decoded> {
  const doc = document as AsyncApiDocument;
  const ajv = new Ajv({ strict: false, allErrors: true });
  const channels = Object.values(doc.channels).map((channel) => ({
    match: channelMatcher(channel.address),
    messages: Object.values(channel.messages).map((ref) => {
      const message = doc.components.messages[ref.$ref.split('/').pop()!]!;
      const compiled: { name: string; headers: ValidateFunction; payload: ValidateFunction } = {
        name: message.name,
        headers: ajv.compile(message.headers),
        payload: ajv.compile(message.payload),
      };
      return compiled;
    }),
  }));
  const decoded: Decoded = { byType: new Map(), failures: [] };
  const info = await jsm.streams.info(stream);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const stored = await jsm.streams.getMessage(stream, { seq });
    if (!stored) {
      decoded.failures.push(`#${seq}: not in the stream`);
      continue;
    }
    const channel = channels.find((c) => c.match.test(stored.subject));
    if (!channel) {
      decoded.failures.push(`#${seq} ${stored.subject}: no channel`);
      continue;
    }
    const headers = Object.fromEntries([...(stored.header?.keys() ?? [])].map((key) => [key, stored.header?.get(key)]));
    const body: unknown = stored.json();
    const accepted = channel.messages.find((m) => m.headers(headers) && m.payload(body));
    if (!accepted) {
      const why = channel.messages.map((m) => JSON.stringify([m.headers.errors, m.payload.errors])).join(' ');
      decoded.failures.push(`#${seq} ${stored.subject}: no message of the channel accepts it: ${why.slice(0, 400)}`);
      continue;
    }
    decoded.byType.set(accepted.name, (decoded.byType.get(accepted.name) ?? 0) + 1);
  }
  return decoded;
}
