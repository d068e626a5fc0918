// Every workflow of every task queue (tests and the replay suite load them all; each worker runs
// only its queue's bundle, workflows/queues/<task queue>.ts).
export * from './queues/tenant-sagas.ts';
export * from './queues/outbox-relay.ts';
export * from './queues/projector.ts';
