// `npm run build`: the production artefact in dist/ — the deployables, the CLI and the migration
// entry compiled by tsc (tsconfig.build.json), the migrations' SQL beside them, and one prebuilt
// workflow bundle per task queue with a manifest of what it was built from (runtime/workflow-bundles.ts).
// `npm run up` calls `ensureBuild`, which rebuilds only when a build input changed.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { z } from 'zod';
import {
  bundleDir,
  bundleInputsHash,
  sha256,
  WORKFLOW_ENTRIES,
  WORKFLOW_INTERCEPTORS,
  type BundleManifest,
} from '../runtime/workflow-bundles.ts';
import type { Say } from './entry.ts';
import { StackError } from './stack/processes.ts';
import { repoRoot } from './stack/settings.ts';
import type { TaskQueue } from '../contracts/workflow-names.ts';

export const DIST = join(repoRoot, 'dist');
const BUILD_INFO = join(DIST, 'build-info.json');

/** The folders tsconfig.build.json compiles; their .ts (not tests) and .sql files are the build's inputs. */
const SOURCE_DIRS = [
  'contracts',
  'services',
  'runtime',
  'activities',
  'workflows',
  'bff',
  'saga-worker',
  'relay',
  'projector',
  'all-in-one',
  'cli',
  'platform',
];

const buildInfo = z.object({ sourcesHash: z.string(), builtAt: z.string(), seconds: z.number() });

/** A hash of every build input: sources, migrations, the lockfile and the compiler settings. */
export function sourcesHash(root = repoRoot): string {
  const files = SOURCE_DIRS.flatMap((dir) =>
    (readdirSync(join(root, dir), { recursive: true }) as string[])
      .filter((f) => (f.endsWith('.ts') && !f.endsWith('.test.ts')) || f.endsWith('.sql'))
      .map((f) => join(dir, f).split(sep).join('/')),
  )
    .concat(['package-lock.json', 'tsconfig.json', 'tsconfig.build.json'])
    .sort();
  const hash = sha256(files.map((f) => `${f}\0${sha256(readFileSync(join(root, f)))}`).join('\n'));
  return hash;
}

/** Whether dist/ was built from the sources as they are now. */
export function buildIsCurrent(): boolean {
  if (!existsSync(BUILD_INFO)) return false;
  const info = buildInfo.safeParse(JSON.parse(readFileSync(BUILD_INFO, 'utf8')));
  return info.success && info.data.sourcesHash === sourcesHash();
}

/** Builds dist/ from scratch. */
export async function build(say: Say): Promise<void> {
  const started = Date.now();
  const hash = sourcesHash();
  rmSync(DIST, { recursive: true, force: true });

  say('• compiling with tsc (tsconfig.build.json) → dist/');
  const tsc = spawnSync(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (tsc.status !== 0) throw new StackError(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);

  for (const service of readdirSync(join(repoRoot, 'services'))) {
    const migrations = join(repoRoot, 'services', service, 'migrations');
    if (existsSync(migrations)) cpSync(migrations, join(DIST, 'services', service, 'migrations'), { recursive: true });
  }

  mkdirSync(bundleDir(DIST), { recursive: true });
  const inputsHash = bundleInputsHash(repoRoot);
  const sdkVersion = (
    JSON.parse(readFileSync(join(repoRoot, 'node_modules', '@temporalio', 'workflow', 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  for (const [taskQueue, entry] of Object.entries(WORKFLOW_ENTRIES) as [TaskQueue, string][]) {
    const bundleStarted = Date.now();
    const { code } = await bundleWorkflowCode({
      workflowsPath: join(repoRoot, entry),
      workflowInterceptorModules: WORKFLOW_INTERCEPTORS[taskQueue],
      logger: { trace() {}, debug() {}, info() {}, warn: (m) => say(`  ${m}`), error: (m) => say(`  ${m}`), log() {} },
    });
    const codePath = join(bundleDir(DIST), `${taskQueue}.js`);
    writeFileSync(codePath, code);
    const manifest: BundleManifest = { taskQueue, entry, inputsHash, codeSha256: sha256(code), sdkVersion };
    writeFileSync(join(bundleDir(DIST), `${taskQueue}.json`), `${JSON.stringify(manifest, null, 2)}\n`);
    say(
      `• workflow bundle ${relative(repoRoot, codePath)}: ${(code.length / 1024).toFixed(0)} KiB in ` +
        `${((Date.now() - bundleStarted) / 1000).toFixed(1)} s`,
    );
  }

  const seconds = (Date.now() - started) / 1000;
  writeFileSync(BUILD_INFO, `${JSON.stringify({ sourcesHash: hash, builtAt: new Date().toISOString(), seconds })}\n`);
  say(`✓ built dist/ in ${seconds.toFixed(1)} s`);
}

/** Builds when a build input changed since the last build; says which it did. */
export async function ensureBuild(say: Say): Promise<void> {
  if (buildIsCurrent()) {
    say('✓ dist/ is up to date with the sources');
    return;
  }
  say(existsSync(BUILD_INFO) ? '• sources changed since the last build: rebuilding dist/' : '• building dist/');
  await build(say);
}
