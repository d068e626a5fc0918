// Where a worker finds the code of its task queue's workflows. Compiled (`node dist/…`), it loads
// the bundle `npm run build` made for that queue, and refuses one built from other sources; under
// tsx (development, tests) it bundles the TypeScript sources itself, as before.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { TASK_QUEUES, type TaskQueue } from '../contracts/workflow-names.ts';

/** This module runs compiled (from dist/) rather than as TypeScript under tsx. */
const compiled = import.meta.url.endsWith('.js');
/** dist/ when compiled, the repository root otherwise. */
const codeRoot = fileURLToPath(new URL('..', import.meta.url));
/** The repository root (the sources; beside dist/ in a checkout). */
function sourceRoot(): string {
  return compiled ? join(codeRoot, '..') : codeRoot;
}

/** The entry module of each task queue's workflows, relative to the repository root. */
export const WORKFLOW_ENTRIES: Record<TaskQueue, string> = {
  [TASK_QUEUES.sagas]: 'workflows/queues/tenant-sagas.ts',
  [TASK_QUEUES.relay]: 'workflows/queues/outbox-relay.ts',
  [TASK_QUEUES.projector]: 'workflows/queues/projector.ts',
};

/**
 * Workflow interceptor modules bundled with each task queue's workflows. The saga queue's workflows
 * are traced: the official OpenTelemetry interceptors continue the caller's trace (from the start
 * request's headers) into the workflow and on to its activities, and export the workflow's spans
 * through a sink (runtime/worker.ts); ours add the tenant. The relay and projector loops are not:
 * they run for good, and their spans follow each event instead (relay/, projector/).
 */
export const WORKFLOW_INTERCEPTORS: Record<TaskQueue, string[]> = {
  [TASK_QUEUES.sagas]: [
    createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
    join(sourceRoot(), 'workflows', 'tracing.interceptors.ts'),
  ],
  [TASK_QUEUES.relay]: [],
  [TASK_QUEUES.projector]: [],
};

/** What a bundle was built from; written beside it as `<task queue>.json`. */
export const bundleManifest = z.object({
  taskQueue: z.string(),
  entry: z.string(),
  /** sha256 of the workflow sources, the contracts and the lockfile (see bundleInputsHash). */
  inputsHash: z.string(),
  /** sha256 of the bundle file itself. */
  codeSha256: z.string(),
  sdkVersion: z.string(),
});
export type BundleManifest = z.infer<typeof bundleManifest>;

/** Thrown when a prebuilt bundle is missing, damaged or older than its sources. */
export class StaleBundleError extends Error {
  override readonly name = 'StaleBundleError';
}

export function bundleDir(distRoot: string): string {
  return join(distRoot, 'workflow-bundles');
}

export const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * A hash of everything a workflow bundle is built from: every workflow and contract source (the
 * only local modules workflow code may import, agent/codemap.yml) and the lockfile (the SDK).
 */
export function bundleInputsHash(repoRoot: string): string {
  const files = ['workflows', 'contracts']
    .flatMap((dir) =>
      (readdirSync(join(repoRoot, dir), { recursive: true }) as string[]).map((f) => join(repoRoot, dir, f)),
    )
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .concat(join(repoRoot, 'package-lock.json'))
    .map((f) => relative(repoRoot, f).split(sep).join('/'))
    .sort();
  const hash = createHash('sha256');
  for (const file of files)
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(repoRoot, file)))
      .update('\0');
  return hash.digest('hex');
}

/**
 * The prebuilt bundle of `taskQueue` under `distRoot`, checked: present, intact, and — where the
 * sources sit beside dist/ (a checkout, not an image) — built from the sources as they are now.
 */
export function checkedBundle(distRoot: string, taskQueue: TaskQueue): { codePath: string; manifest: BundleManifest } {
  const codePath = join(bundleDir(distRoot), `${taskQueue}.js`);
  const manifestPath = join(bundleDir(distRoot), `${taskQueue}.json`);
  if (!existsSync(codePath) || !existsSync(manifestPath)) {
    throw new StaleBundleError(
      `no workflow bundle for task queue ${taskQueue} in ${bundleDir(distRoot)}: run \`npm run build\``,
    );
  }
  const manifest = bundleManifest.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  if (sha256(readFileSync(codePath)) !== manifest.codeSha256) {
    throw new StaleBundleError(
      `${codePath} does not match its manifest (damaged or from another build): run \`npm run build\``,
    );
  }
  const sourceRoot = join(distRoot, '..');
  if (existsSync(join(sourceRoot, manifest.entry)) && bundleInputsHash(sourceRoot) !== manifest.inputsHash) {
    throw new StaleBundleError(
      `the workflow bundle for ${taskQueue} (${codePath}) was built from other sources than those in ` +
        `${join(sourceRoot, 'workflows')} and ${join(sourceRoot, 'contracts')}: it would run workflow code that ` +
        'is not what you see. Run `npm run build` (npm run up does it when sources changed).',
    );
  }
  return { codePath, manifest };
}

/** How a worker of `taskQueue` gets its workflow code: the checked bundle compiled, the sources under tsx. */
export function workflowSource(
  taskQueue: TaskQueue,
): { workflowBundle: { codePath: string } } | { workflowsPath: string; interceptors: { workflowModules: string[] } } {
  if (compiled) return { workflowBundle: { codePath: checkedBundle(codeRoot, taskQueue).codePath } };
  return {
    workflowsPath: join(codeRoot, WORKFLOW_ENTRIES[taskQueue]),
    interceptors: { workflowModules: WORKFLOW_INTERCEPTORS[taskQueue] },
  };
}
