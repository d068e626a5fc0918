#!/usr/bin/env node
// Entry for every npm script that needs the project's TypeScript CLI. It runs before node_modules
// may exist (a fresh clone), so it is plain JavaScript with no dependencies: install the locked
// node modules when they are missing or stale, then hand over to `cli/main.ts` through tsx.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lockfile = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');

function modulesAreCurrent() {
  if (!existsSync(installed)) return false;
  return statSync(installed).mtimeMs >= statSync(lockfile).mtimeMs;
}

if (!modulesAreCurrent()) {
  process.stderr.write('• installing node modules (npm ci)…\n');
  const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: ['ignore', process.stderr, process.stderr],
  });
  if (npm.status !== 0) {
    process.stderr.write('✗ npm ci failed (see above). Check that the npm registry is reachable and retry.\n');
    process.exit(npm.status ?? 1);
  }
}

// Commands with an entry of their own (so the CLI does not import them); everything else is cli/main.ts.
const ENTRIES = { bench: ['bench', 'bench.main.ts'] };
const [command, ...rest] = process.argv.slice(2);
const entry = ENTRIES[command]
  ? [join(root, ...ENTRIES[command]), ...rest]
  : [join(root, 'cli', 'main.ts'), ...process.argv.slice(2)];
const cli = spawnSync(process.execPath, ['--import', 'tsx', ...entry], {
  cwd: root,
  stdio: 'inherit',
});
if (cli.signal) process.kill(process.pid, cli.signal);
process.exit(cli.status ?? 1);
