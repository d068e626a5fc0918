// A small migration runner over ordered SQL files. Whoever owns a table keeps its migrations beside
// its code in `services/<name>/migrations/` (the read models' in `services/read-models/`), each file
// `NNNN-what.sql`; the number orders them across folders.
// Uses `pg` directly because migration files hold several statements, which slonik's prepared
// statements do not allow.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';

export interface Migration {
  id: string;
  path: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: number;
}

const MIGRATION_FILE = /^(\d{4})-[a-z0-9-]+\.sql$/;
// Arbitrary constant key for pg_advisory_lock, so two runners never interleave.
const MIGRATION_LOCK_KEY = 727_001;

/** Every migration under `<root>/services/*\/migrations/`, ordered by number; duplicates are an error. */
export async function discoverMigrations(root: string): Promise<Migration[]> {
  const services = (await readdir(join(root, 'services'), { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => join('services', d.name));
  const migrations: Migration[] = [];
  for (const owner of services) {
    const dir = join(root, owner, 'migrations');
    const files = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[]; // a service without tables
      throw error;
    });
    for (const file of files.filter((f) => f.endsWith('.sql'))) {
      if (!MIGRATION_FILE.test(file)) {
        throw new Error(`migration file ${join(dir, file)} must be named NNNN-lowercase-words.sql`);
      }
      const sql = await readFile(join(dir, file), 'utf8');
      migrations.push({ id: file, path: join(dir, file), sql, checksum: sha256(sql) });
    }
  }
  return orderMigrations(migrations);
}

/** Orders by number and rejects two files with the same number (they would run in an arbitrary order). */
export function orderMigrations(migrations: Migration[]): Migration[] {
  const sorted = [...migrations].sort((a, b) => a.id.localeCompare(b.id));
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1]!;
    const current = sorted[i]!;
    if (previous.id.slice(0, 4) === current.id.slice(0, 4)) {
      throw new Error(`two migrations share number ${current.id.slice(0, 4)}: ${previous.path} and ${current.path}`);
    }
  }
  return sorted;
}

/**
 * Applies the pending migrations, each in its own transaction together with its bookkeeping row,
 * under an advisory lock. Idempotent. A changed, already-applied file is an error, not a re-run.
 */
export async function migrate(databaseUrl: string, migrations: Migration[]): Promise<MigrationReport> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`create table if not exists schema_migrations (
      id text primary key, checksum text not null, applied_at timestamptz not null default now())`);
    const done = new Map(
      (await client.query<{ id: string; checksum: string }>('select id, checksum from schema_migrations')).rows.map(
        (row) => [row.id, row.checksum],
      ),
    );
    const applied: string[] = [];
    for (const migration of migrations) {
      const checksum = done.get(migration.id);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          throw new Error(
            `migration ${migration.id} changed after it was applied; add a new migration instead of editing it`,
          );
        }
        continue;
      }
      await client.query('begin');
      try {
        await client.query(migration.sql);
        await client.query('insert into schema_migrations (id, checksum) values ($1, $2)', [
          migration.id,
          migration.checksum,
        ]);
        await client.query('commit');
      } catch (error) {
        await client.query('rollback');
        throw new Error(`migration ${migration.id} failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(migration.id);
    }
    return { applied, alreadyApplied: migrations.length - applied.length };
  } finally {
    await client.end();
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
