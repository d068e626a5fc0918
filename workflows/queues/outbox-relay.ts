// The workflows task queue `outbox-relay` runs (the relay): its bundle's entry.
export { outboxRelay } from '../outbox-relay/outbox-relay.workflow.ts';
