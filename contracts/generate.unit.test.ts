// The contract-drift gate: the committed artefacts equal what the zod contracts generate, and a
// changed contract that was not regenerated is caught.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { z } from 'zod';
import { readGenerated, renderAll, syncContracts } from '../cli/contracts.ts';
import { EVENT_CONTRACTS } from './events.ts';
import { contractDrift } from './generate.ts';
import { HTTP_ROUTES } from './http-api.ts';

const repoRoot = join(import.meta.dirname, '..');

describe('contracts: generated artefacts and the drift gate', () => {
  it('the committed OpenAPI document and event schemas match the zod contracts', async () => {
    assert.deepEqual(await syncContracts({ write: false }), []);
  });

  it('a changed request schema that was not regenerated is reported as drift', async () => {
    const changed = HTTP_ROUTES.map((route) =>
      route.operationId === 'incrementCounter'
        ? { ...route, body: z.object({ by: z.number().int().min(1).max(10) }).strict() }
        : route,
    );
    // The typed client's types come from the same document, so they drift with it.
    assert.deepEqual(contractDrift(await renderAll(changed, EVENT_CONTRACTS), readGenerated(repoRoot)), [
      'changed: contracts/generated/bff-api.ts',
      'changed: contracts/generated/openapi.json',
    ]);
  });

  it('a new event without its schema file, and a schema file without its event, are both drift', async () => {
    const added = [
      ...EVENT_CONTRACTS,
      { aggregateType: 'counter', eventType: 'CounterFrozen', schemaVersion: 1, payload: z.object({}) },
    ];
    assert.deepEqual(contractDrift(await renderAll(HTTP_ROUTES, added), readGenerated(repoRoot)), [
      'changed: contracts/generated/asyncapi.json',
      'missing: contracts/generated/events/CounterFrozen.v1.schema.json',
    ]);
    const removed = EVENT_CONTRACTS.filter((e) => e.eventType !== 'CounterReset');
    assert.deepEqual(contractDrift(await renderAll(HTTP_ROUTES, removed), readGenerated(repoRoot)), [
      'changed: contracts/generated/asyncapi.json',
      'stale: contracts/generated/events/CounterReset.v1.schema.json',
    ]);
  });

  it('the check fails on a hand-edited artefact, and writing regenerates it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'contracts-'));
    try {
      cpSync(join(repoRoot, 'contracts', 'generated'), join(root, 'contracts', 'generated'), { recursive: true });
      writeFileSync(join(root, 'contracts', 'generated', 'openapi.json'), '{}\n');
      assert.deepEqual(await syncContracts({ write: false, root }), ['changed: contracts/generated/openapi.json']);
      assert.deepEqual(await syncContracts({ write: true, root }), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
