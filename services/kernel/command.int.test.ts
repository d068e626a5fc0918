// The command kernel's answer when its own retries run out (services/kernel/command.ts): a caller
// that named no version gets a 409 that makes sense without one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { createMigratedDatabase, type FreshDatabase } from '../../test/support/database.ts';
import { testStack } from '../../test/support/env.ts';
import { createCounterCommands } from '../counter/counter.commands.ts';
import { counterWrite, loadCounterForWrite } from '../counter/counter.store.ts';
import { runCommand } from './command.ts';
import { createDatabasePool, type DatabasePool } from './database.ts';
import { DomainError } from './errors.ts';
import { CAS_RETRY } from './retry.ts';
import { activeTenantRows } from '../../test/support/tenants.ts';

describe('command kernel: a conflict that outlasts the retries', function () {
  this.timeout(60_000);
  let db: FreshDatabase;
  let pool: DatabasePool;

  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'kernel');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 2 });
    await activeTenantRows(pool, 'kernel');
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  it(`without an expected version: retried ${CAS_RETRY.maxAttempts} times, then a VERSION_CONFLICT that names no version the caller never sent`, async () => {
    const key = { tenantId: 'kernel', counterId: 'c1' };
    await createCounterCommands({ pool }).execute({ ...key, command: { type: 'increment', by: 1 }, metadata: {} });
    let attempts = 0;
    // A writer whose CAS always expects a stale version: as if a rival bypassed the aggregate lock every time.
    const error = await runCommand(pool, {
      aggregate: { tenantId: key.tenantId, type: 'counter', id: key.counterId },
      explicitVersion: false,
      async execute(tx, commit) {
        attempts++;
        const state = await loadCounterForWrite(tx, key);
        return commit({ cas: counterWrite(key, state.version - 1, state), events: [], respond: () => state });
      },
    }).catch((caught: unknown) => caught);
    assert.equal(attempts, CAS_RETRY.maxAttempts);
    assert.ok(error instanceof DomainError, String(error));
    assert.equal(error.code, 'VERSION_CONFLICT');
    assert.deepEqual(error.details, { currentVersion: 1 });
    assert.match(error.message, /counter c1 changed under each of 16 attempts to apply this request; send it again/);
  });

  it('with an expected version: one attempt, and the conflict names both versions', async () => {
    const key = { tenantId: 'kernel', counterId: 'c2' };
    const counters = createCounterCommands({ pool });
    await counters.execute({ ...key, command: { type: 'increment', by: 1 }, metadata: {} });
    await assert.rejects(
      counters.execute({ ...key, command: { type: 'increment', by: 1 }, expectedVersion: 0, metadata: {} }),
      (error: unknown) =>
        error instanceof DomainError &&
        error.code === 'VERSION_CONFLICT' &&
        JSON.stringify(error.details) === JSON.stringify({ expectedVersion: 0, currentVersion: 1 }),
    );
  });
});
