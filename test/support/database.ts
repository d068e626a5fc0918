// A throwaway database on the test server, so a suite starts from nothing and leaves nothing.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface FreshDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createFreshDatabase(serverUrl: string, prefix = 't'): Promise<FreshDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** A fresh database with every migration applied. */
export async function createMigratedDatabase(serverUrl: string, prefix = 't'): Promise<FreshDatabase> {
  const { discoverMigrations, migrate } = await import('../../services/kernel/migrations.ts');
  const db = await createFreshDatabase(serverUrl, prefix);
  await migrate(db.url, await discoverMigrations(new URL('../..', import.meta.url).pathname));
  return db;
}
