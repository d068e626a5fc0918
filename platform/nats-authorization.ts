// Who may do what on NATS: one identity per process of a topology, with the union of the subject
// permissions its deployables need. Only the relay may publish events; nobody else can forge one.
// The local stack writes this as nats-server's `authorization` block with generated passwords;
// `platform generate` writes it for the kubernetes topology with passwords taken from the server's
// environment (README "Reliability", "NATS").
import { inboxPrefixOf } from '../runtime/connections.ts';
import type { DeployableName } from '../runtime/deployable.ts';
import type { EventsStream } from '../runtime/events-stream.ts';

export interface SubjectPermissions {
  publish: { allow: string[]; deny: string[] };
  subscribe: { allow: string[] };
}

/** The JetStream API subjects and event subjects each deployable uses, and nothing more. */
function needs(deployable: DeployableName, stream: EventsStream): Omit<SubjectPermissions, 'subscribe'> {
  const api = '$JS.API';
  const events = (verb: string) => `${api}.STREAM.${verb}.${stream.name}`;
  const ensureStream = [events('INFO'), events('CREATE'), events('UPDATE')];
  switch (deployable) {
    case 'relay': // publishes the outbox; reads the stream's last message to resume
      return { publish: { allow: [`${stream.subjectPrefix}.>`, ...ensureStream, events('MSG.GET')], deny: [] } };
    case 'projector': // an ordered consumer per projection; removes consumers of old versions
      return {
        publish: {
          allow: [
            ...ensureStream,
            `${api}.CONSUMER.CREATE.${stream.name}.>`,
            `${api}.CONSUMER.INFO.${stream.name}.*`,
            `${api}.CONSUMER.DELETE.${stream.name}.*`,
            `${api}.CONSUMER.MSG.NEXT.${stream.name}.*`,
          ],
          deny: [],
        },
      };
    case 'bff': // pipeline lag on /metrics
      return { publish: { allow: [events('INFO'), events('MSG.GET')], deny: [] } };
    case 'saga-worker': // each tenant's own stream (TENANT_<slug>); `*` cannot say "TENANT_ only"
      return {
        publish: {
          allow: [`${api}.STREAM.INFO.*`, `${api}.STREAM.CREATE.*`, `${api}.STREAM.DELETE.*`],
          deny: [events('CREATE'), events('DELETE')],
        },
      };
  }
}

/**
 * The permissions of one identity that runs `deployables`: the union of what each needs, its own
 * reply subjects, and the JetStream account info every client asks for. A deny of one deployable
 * that another one of the set is allowed is dropped (the union may do what any member may).
 */
export function permissionsFor(user: string, deployables: DeployableName[], stream: EventsStream): SubjectPermissions {
  const parts = deployables.map((name) => needs(name, stream));
  const allow = [...new Set(['$JS.API.INFO', ...parts.flatMap((part) => part.publish.allow)])];
  const deny = [...new Set(parts.flatMap((part) => part.publish.deny))].filter((subject) => !allow.includes(subject));
  return { publish: { allow, deny }, subscribe: { allow: [`${inboxPrefixOf(user)}.>`] } };
}

export interface NatsIdentity {
  user: string;
  /** A literal password (local stack) or `$NAME` of an environment variable of the server (production). */
  password: string;
  /** The deployables this identity runs; absent for the administrator (no restrictions). */
  deployables?: DeployableName[];
}

/** nats-server's `authorization` block for these identities. */
export function authorizationBlock(identities: NatsIdentity[], stream: EventsStream): string {
  const list = (subjects: string[]) => `[${subjects.map((subject) => JSON.stringify(subject)).join(', ')}]`;
  const users = identities.map(({ user, password, deployables }) => {
    const secret = /^\$[A-Z][A-Z0-9_]*$/.test(password) ? password : JSON.stringify(password);
    const head = `    { user: ${JSON.stringify(user)}, password: ${secret}`;
    if (!deployables) return `${head} }`;
    const { publish, subscribe } = permissionsFor(user, deployables, stream);
    const deny = publish.deny.length > 0 ? `, deny: ${list(publish.deny)}` : '';
    return [
      `${head}, permissions: {`,
      `        publish: { allow: ${list(publish.allow)}${deny} }`,
      `        subscribe: { allow: ${list(subscribe.allow)} }`,
      `    } }`,
    ].join('\n');
  });
  return `authorization {\n  users: [\n${users.join('\n')}\n  ]\n}\n`;
}
