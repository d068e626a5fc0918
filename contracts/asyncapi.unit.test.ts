// The AsyncAPI document is valid AsyncAPI 3 by the official parser (@asyncapi/parser, with its
// Spectral rules), describes every event contract, and its message schemas accept what the relay
// publishes and refuse what breaks a contract.
import assert from 'node:assert/strict';
import { Parser } from '@asyncapi/parser';
import { Ajv } from 'ajv';
import { describe, it } from 'mocha';
import { renderAsyncApi } from './asyncapi.ts';
import { toEnvelope } from './envelope.ts';
import { EVENT_CONTRACTS } from './events.ts';

describe('AsyncAPI document of the events', () => {
  const document = renderAsyncApi(EVENT_CONTRACTS);

  it('is valid AsyncAPI 3.0 for the official parser: no error, no warning', async () => {
    const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(document));
    const problems = diagnostics
      .filter((d) => Number(d.severity) <= 1) // 0 error, 1 warning (Spectral's severities)
      .map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`);
    assert.deepEqual(problems, []);
    assert.equal(parsed?.allMessages().length, EVENT_CONTRACTS.length, 'one message per contract version');
    assert.equal(parsed?.channels().length, new Set(EVENT_CONTRACTS.map((c) => c.eventType)).size);
  });

  it("a message schema accepts a CloudEvent as the relay publishes it and refuses one that breaks the event's contract", () => {
    const messages = (document.components as { messages: Record<string, { payload: object }> }).messages;
    const validate = new Ajv({ strict: false }).compile(messages['CounterIncremented.v1']!.payload);
    const row = toEnvelope({
      eventId: '0b9a4d6e-4a5c-4c39-9d6f-2f1a7f6c1e11',
      tenantId: 'acme',
      aggregateType: 'counter',
      aggregateId: 'visits',
      aggregateVersion: 3,
      eventType: 'CounterIncremented',
      schemaVersion: 1,
      payload: { by: 2, value: 7, version: 3 },
      metadata: { actor: 'alice', correlationId: 'r-1' },
      occurredAt: 1_764_000_000_000,
    });
    assert.equal(validate(row), true, JSON.stringify(validate.errors));
    assert.equal(validate({ ...row, data: { by: 2, value: 7 } }), false, 'data without its version');
    assert.equal(validate({ ...row, type: 'CounterReset' }), false, 'another event type');
    assert.equal(validate({ ...row, specversion: '0.3' }), false, 'another CloudEvents version');
  });
});
