// The set-based apply of both projections on real Postgres: a batch in one statement gives what
// applying its events one by one would, a duplicate (in the batch or from an earlier one) counts
// once, and events of a tenant that was never reserved change nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'mocha';
import { sql } from 'slonik';
import { z } from 'zod';
import { createDatabasePool, type DatabasePool } from '../kernel/database.ts';
import type { OutboxEvent } from '../kernel/outbox.ts';
import { createMigratedDatabase, type FreshDatabase } from '../../test/support/database.ts';
import { testStack } from '../../test/support/env.ts';
import { counterProjection, readCounterSummary } from './counters.read-model.ts';
import { readTenant, tenantProjection } from './tenants.read-model.ts';
import type { Projection } from './projections.ts';

let position = 0;
function event(
  aggregateType: string,
  aggregateId: string,
  version: number,
  eventType: string,
  payload: Record<string, unknown>,
): OutboxEvent {
  position++;
  return {
    position: String(position),
    txId: String(position),
    eventId: randomUUID(),
    tenantId: aggregateType === 'tenant' ? aggregateId : 'acme',
    aggregateType,
    aggregateId,
    aggregateVersion: version,
    eventType,
    schemaVersion: 1,
    payload,
    metadata: {},
    occurredAt: Date.now(),
  };
}
const increment = (counterId: string, version: number) =>
  event('counter', counterId, version, 'CounterIncremented', { by: 1, value: version, version });

async function applyBatch<Row>(pool: DatabasePool, projection: Projection<Row>, events: OutboxEvent[]) {
  const rows = events.map((e) => projection.rowOf(e)).filter((row) => row !== null);
  return pool.transaction((tx) => projection.apply(tx, rows));
}

describe('read models: set-based apply', function () {
  let db: FreshDatabase;
  let pool: DatabasePool;
  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'read_models');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 2 });
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('counters: one statement per batch; a duplicate counts once, older versions change nothing', async () => {
    const counters = counterProjection();
    const v2 = increment('a', 2);
    const first = [increment('a', 1), v2, v2, increment('b', 1), increment('a', 3)];
    assert.equal(await applyBatch(pool, counters, first), 4, 'a1, a2, b1 and a3 — the repeated a2 once');
    assert.equal(await applyBatch(pool, counters, [increment('a', 3), increment('a', 2), increment('a', 4)]), 1);
    assert.deepEqual(await readCounterSummary(pool, { tenantId: 'acme', counterId: 'a' }), {
      tenantId: 'acme',
      counterId: 'a',
      value: 4,
      version: 4,
    });
    const totals = await pool.one(
      sql.type(
        z.object({ counters: z.coerce.number(), increments: z.coerce.number(), events: z.coerce.number() }),
      )`select counters, increments, events from rm_tenant_activity where tenant_id = 'acme'`,
    );
    assert.deepEqual(totals, { counters: 2, increments: 5, events: 5 });
  });

  it('counters: an event that breaks its contract is refused before any statement', () => {
    const broken = event('counter', 'a', 1, 'CounterIncremented', { by: 'x', value: 1, version: 1 });
    assert.throws(() => counterProjection().rowOf(broken), /expected number/);
    assert.equal(counterProjection().rowOf(event('tenant', 't', 1, 'TenantReserved', {})), null);
  });

  it('tenants: an event that breaks its contract, or has none, is refused before any statement', () => {
    const tenants = tenantProjection();
    assert.throws(
      () => tenants.rowOf(event('tenant', 't', 2, 'TenantMemberAdded', { userId: 'u1', version: 2 })),
      /role/,
    );
    assert.throws(
      () => tenants.rowOf(event('tenant', 't', 2, 'TenantRenamed', { version: 2 })),
      /unknown tenant event/,
    );
  });

  it('tenants: reservation, transitions and member changes of one batch fold into one row', async () => {
    const tenants = tenantProjection();
    const reserved = event('tenant', 't1', 1, 'TenantReserved', {
      slug: 't-one',
      name: 'T one',
      plan: 'pro',
      ownerUserId: 'u0',
      version: 1,
    });
    const batch = [
      reserved,
      event('tenant', 't1', 2, 'TenantActivated', { from: 'provisioning', to: 'active', version: 2 }),
      event('tenant', 't1', 3, 'TenantMemberAdded', { userId: 'u1', role: 'member', version: 3 }),
      event('tenant', 't1', 4, 'TenantMemberAdded', { userId: 'u2', role: 'viewer', version: 4 }),
      event('tenant', 't1', 5, 'TenantMemberRemoved', { userId: 'u1', role: 'member', version: 5 }),
      event('tenant', 'never-reserved', 2, 'TenantMemberAdded', { userId: 'u3', role: 'admin', version: 2 }),
    ];
    assert.equal(await applyBatch(pool, tenants, batch), 5);
    assert.deepEqual(await readTenant(pool, 't1'), {
      tenantId: 't1',
      slug: 't-one',
      name: 'T one',
      plan: 'pro',
      status: 'active',
      members: 1,
      version: 5,
    });
    assert.equal(await readTenant(pool, 'never-reserved'), null);

    const later = [
      reserved,
      batch[4]!,
      event('tenant', 't1', 6, 'TenantDeactivated', { from: 'active', to: 'offboarding', version: 6 }),
    ];
    assert.equal(await applyBatch(pool, tenants, later), 1, 'only version 6 is new');
    assert.deepEqual(
      { ...(await readTenant(pool, 't1')) },
      { tenantId: 't1', slug: 't-one', name: 'T one', plan: 'pro', status: 'offboarding', members: 1, version: 6 },
    );
  });
});
