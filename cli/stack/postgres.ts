// A private PostgreSQL cluster in the state folder, on its own port, with a generated password.
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { run, StackError } from './processes.ts';
import { stateSecret, type StackSettings } from './settings.ts';

const USER = 'app';
const DATABASE = 'app';

interface PostgresLayout {
  bin: string;
  dataDir: string;
  socketDir: string;
  logFile: string;
  passwordFile: string;
}

function layout(settings: StackSettings, bin: string): PostgresLayout {
  return {
    bin,
    dataDir: join(settings.paths.postgres, 'data'),
    socketDir: join(settings.paths.postgres, 'run'),
    logFile: join(settings.paths.logs, 'postgres.log'),
    passwordFile: join(settings.paths.secrets, 'postgres-password'),
  };
}

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` user the Debian package creates. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line)
    throw new StackError('running as root needs a `postgres` system user; install the Debian postgresql package');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** The server user must be able to reach the data folder; add only the search bit where it is missing. */
function makeReachable(dir: string, say: (line: string) => void): void {
  for (let current = dirname(dir); current !== dirname(current); current = dirname(current)) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(current, mode | 0o001);
      say(`• made ${current} searchable (o+x) so the postgres user can reach its data folder`);
    }
  }
}

/** The role the deployables log in as: a member of `app_runtime` (migration 0010), no superuser, no DDL. */
const SERVICE_USER = 'app_service';

/** The owner's URL (the cluster's bootstrap role): migrations, the CLI's tools, the tests' fixtures. */
export function databaseUrl(settings: StackSettings): string {
  const password = readFileSync(layout(settings, '').passwordFile, 'utf8').trim();
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${settings.ports.postgres}/${DATABASE}`;
}

/** The URL without its password, for printing. */
export function redactedUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@]*@/, '//$1:***@');
}

export function postgresPid(settings: StackSettings): number | undefined {
  const pidFile = join(settings.paths.postgres, 'data', 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  return Number(readFileSync(pidFile, 'utf8').split('\n')[0]) || undefined;
}

/** Initialises the cluster on first use, starts it and creates the app database. Returns the server pid. */
export async function startPostgres(
  settings: StackSettings,
  bin: string,
  say: (line: string) => void,
): Promise<number> {
  const l = layout(settings, bin);
  const user = serverUser();
  const asServer = user ? { uid: user.uid, gid: user.gid } : {};
  mkdirSync(settings.paths.postgres, { recursive: true });
  mkdirSync(l.socketDir, { recursive: true });
  if (user) {
    makeReachable(settings.paths.postgres, say);
    chownSync(settings.paths.postgres, user.uid, user.gid);
    chownSync(l.socketDir, user.uid, user.gid);
  }
  if (!existsSync(join(l.dataDir, 'PG_VERSION'))) {
    say(`• initialising PostgreSQL cluster in ${l.dataDir}`);
    rmSync(l.dataDir, { recursive: true, force: true });
    const password = randomBytes(18).toString('base64url');
    writeFileSync(l.passwordFile, `${password}\n`, { mode: 0o600 });
    const pwfile = join(settings.paths.postgres, 'initdb-password');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (user) chownSync(pwfile, user.uid, user.gid);
    try {
      run(
        join(bin, 'initdb'),
        ['-D', l.dataDir, '-U', USER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-locale'],
        'initdb',
        { ...asServer, cwd: settings.paths.postgres },
      );
    } finally {
      rmSync(pwfile, { force: true });
    }
  }
  writeFileSync(l.logFile, '', { flag: 'a' });
  if (user) {
    chmodSync(settings.paths.logs, 0o711); // the server user opens its log file here by name
    chownSync(l.logFile, user.uid, user.gid);
  }
  // The server's own log rotates by weekday: logs/postgres/postgresql-Mon.log … -Sun.log, each
  // emptied when its day comes round again, so at most a week of it is kept. (postgres.log holds
  // only what is printed before the log collector starts.)
  const logDir = join(settings.paths.logs, 'postgres');
  mkdirSync(logDir, { recursive: true });
  if (user) chownSync(logDir, user.uid, user.gid);
  const logging = [
    'logging_collector=on',
    `log_directory=${logDir}`,
    'log_filename=postgresql-%a.log',
    'log_truncate_on_rotation=on',
    'log_rotation_age=1d',
    'log_rotation_size=0',
  ].map((setting) => `-c ${setting}`);
  const options = [`-p ${settings.ports.postgres} -c listen_addresses=127.0.0.1 -k ${l.socketDir}`, ...logging].join(
    ' ',
  );
  run(
    join(bin, 'pg_ctl'),
    ['start', '-w', '-t', '60', '-D', l.dataDir, '-l', l.logFile, '-o', options],
    'pg_ctl start',
    {
      ...asServer,
      cwd: settings.paths.postgres,
    },
  );
  await createDatabaseIfMissing(databaseUrl(settings), DATABASE);
  const pid = postgresPid(settings);
  if (!pid) throw new StackError(`PostgreSQL started but wrote no pid; see ${l.logFile}`);
  return pid;
}

/**
 * Creates the service role (or resets its password to the one in the state folder), after the
 * migrations have created `app_runtime` and its grants. Returns its URL, for the deployables.
 */
export async function ensureServiceRole(settings: StackSettings): Promise<string> {
  const password = stateSecret(settings, 'postgres-service-password');
  const client = new pg.Client({ connectionString: databaseUrl(settings) });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_roles where rolname = $1', [SERVICE_USER]);
    const literal = client.escapeLiteral(password);
    await client.query(
      exists.rowCount === 0
        ? `create role ${SERVICE_USER} login password ${literal} nosuperuser nocreatedb nocreaterole in role app_runtime`
        : `alter role ${SERVICE_USER} with login password ${literal} nosuperuser nocreatedb nocreaterole`,
    );
  } finally {
    await client.end();
  }
  return `postgres://${SERVICE_USER}:${encodeURIComponent(password)}@127.0.0.1:${settings.ports.postgres}/${DATABASE}`;
}

/** Creates database `name` on the server of `ownerUrl` (connected through its `postgres` database) unless it exists. */
export async function createDatabaseIfMissing(ownerUrl: string, name: string): Promise<void> {
  const url = new URL(ownerUrl);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

export function stopPostgres(settings: StackSettings, bin: string): void {
  const user = serverUser();
  run(join(bin, 'pg_ctl'), ['stop', '-w', '-m', 'fast', '-D', join(settings.paths.postgres, 'data')], 'pg_ctl stop', {
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
    cwd: settings.paths.postgres,
  });
}

export async function postgresHealthy(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
