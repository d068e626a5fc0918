import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { discoverMigrations, orderMigrations, type Migration } from './migrations.ts';

const migration = (id: string, dir = 'a'): Migration => ({
  id,
  path: `services/${dir}/migrations/${id}`,
  sql: '',
  checksum: id,
});

describe('migrations: discovery and order', () => {
  it('orders migrations from several services by number', () => {
    const ordered = orderMigrations([
      migration('0003-c.sql', 'x'),
      migration('0001-a.sql', 'y'),
      migration('0002-b.sql', 'x'),
    ]);
    assert.deepEqual(
      ordered.map((m) => m.id),
      ['0001-a.sql', '0002-b.sql', '0003-c.sql'],
    );
  });

  it('rejects two migrations with the same number, naming both files', () => {
    assert.throws(
      () => orderMigrations([migration('0002-one.sql', 'x'), migration('0002-two.sql', 'y')]),
      /two migrations share number 0002: services\/x\/migrations\/0002-one.sql and services\/y\/migrations\/0002-two.sql/,
    );
  });

  it('finds the repository migrations, starting with the unified outbox', async () => {
    const found = await discoverMigrations(join(import.meta.dirname, '..', '..'));
    assert.equal(found[0]?.id, '0001-event-outbox.sql');
    assert.match(found[0]?.sql ?? '', /create table event_outbox/);
  });
});
