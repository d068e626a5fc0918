// The wire envelope: an event record becomes a CloudEvent 1.0 (JSON format, structured mode) with the
// required attributes and our extensions, carries no storage detail, and reads back as it was.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { eventEnvelope, fromEnvelope, toEnvelope, type EventRecord } from './envelope.ts';

const record: EventRecord = {
  eventId: '5f0c1f5e-7c7e-4d8e-9a59-6a8f3c7d2b10',
  tenantId: 'acme',
  aggregateType: 'counter',
  aggregateId: 'visits',
  aggregateVersion: 2,
  eventType: 'CounterDecremented',
  schemaVersion: 1,
  payload: { by: 1, value: 4, version: 2 },
  metadata: { correlationId: 'req-1', causationId: 'cmd-1' },
  occurredAt: Date.UTC(2026, 10, 24, 12, 0, 0),
};

describe('event envelope (CloudEvents 1.0)', () => {
  it('has the required context attributes, lowercase alphanumeric extensions, and no outbox internals', () => {
    const envelope = toEnvelope({ ...record, position: '7', txId: '99' } as EventRecord);
    assert.deepEqual(
      { specversion: envelope.specversion, id: envelope.id, source: envelope.source, type: envelope.type },
      { specversion: '1.0', id: record.eventId, source: '/tenants/acme/counter', type: 'CounterDecremented' },
    );
    assert.equal(envelope.time, '2026-11-24T12:00:00.000Z');
    assert.equal(envelope.subject, 'visits');
    const names = Object.keys(envelope);
    assert.ok(
      names.every((name) => /^[a-z0-9]{1,20}$/.test(name)),
      names.join(),
    );
    assert.ok(!('position' in envelope) && !('txId' in envelope) && !('txid' in envelope));
    assert.equal(eventEnvelope.safeParse(envelope).success, true);
  });

  it('reads back as the record it was made from (metadata: what the envelope carries)', () => {
    assert.deepEqual(fromEnvelope(toEnvelope(record)), record);
  });
});
