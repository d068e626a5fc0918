// 8. The production artefact: each compiled deployable's memory against the floors it cannot go
// below (a bare `node` process; the smallest real Temporal worker on a prebuilt bundle), its cold
// start to ready compiled against under tsx, and the image's size against what it must contain.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { buildAppImage, ensurePodman } from '../cli/image/image-command.ts';
import { freePort } from '../test/support/bff.ts';
import { startEntry, type Started } from '../test/support/processes.ts';
import { DEPLOYABLE_NAMES, type DeployableName } from '../runtime/deployable.ts';
import { entryOf, type BenchContext } from './context.ts';
import { row, rssMiB, sleep, waitFor, type Row } from './measure.ts';

/** RSS of a process doing nothing after `settleMs`, then stopped. */
async function idleRss(started: Started, ready: () => Promise<boolean>, settleMs = 3_000): Promise<number> {
  try {
    await waitFor('the baseline process to be ready', ready, 120_000, 100);
    await sleep(settleMs);
    return rssMiB(started.child.pid!);
  } finally {
    started.child.kill('SIGTERM');
    await started.exited;
  }
}

/** The two memory floors: a bare node process, and the smallest real worker (plain node, prebuilt bundle). */
export async function memoryFloors(ctx: BenchContext): Promise<{ bareNode: number; minimalWorker: number }> {
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
  const bareStarted: Started = {
    child: bare,
    output: () => '',
    exited: new Promise((resolve) => bare.once('exit', (code, signal) => resolve({ code, signal }))),
  };
  const bareNode = await idleRss(bareStarted, async () => true);

  const { code } = await bundleWorkflowCode({
    workflowsPath: join(import.meta.dirname, 'minimal-worker', 'trivial.workflow.ts'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  const bundle = join(ctx.scratch, 'minimal-worker-bundle.js');
  writeFileSync(bundle, code);
  const worker = startEntry(join(import.meta.dirname, 'minimal-worker', 'minimal-worker.mjs'), {
    PATH: process.env.PATH,
    TEMPORAL_ADDRESS: ctx.endpoints.temporalAddress,
    TEMPORAL_NAMESPACE: ctx.namespace,
    TASK_QUEUE: `minimal-worker-${ctx.tenantPrefix}`,
    BUNDLE: bundle,
  });
  const minimalWorker = await idleRss(worker, async () => worker.output().includes('polling'));
  return { bareNode, minimalWorker };
}

export function memoryRows(
  floors: { bareNode: number; minimalWorker: number },
  book: { idle: Partial<Record<DeployableName, number>>; peak: Partial<Record<DeployableName, number>> },
): Row[] {
  const bare = { label: 'bare node process, idle', value: floors.bareNode };
  const worker = {
    label: 'minimal Temporal worker (plain node, prebuilt bundle of one trivial workflow)',
    value: floors.minimalWorker,
  };
  const rows: Row[] = [];
  for (const name of DEPLOYABLE_NAMES) {
    const baseline = name === 'bff' ? bare : worker;
    const goal = name === 'bff' ? 'goal ≤ 2× bare node' : 'goal ≤ 1.3× the minimal worker';
    for (const [kind, value] of [
      ['idle', book.idle[name]],
      ['under load (peak)', book.peak[name]],
    ] as const) {
      if (value === undefined) continue;
      rows.push(
        row(
          'memory',
          `${name} RSS ${kind}`,
          'value',
          'MiB',
          { label: `${name}, compiled (node dist/)`, value },
          baseline,
          goal,
        ),
      );
    }
  }
  return rows;
}

/** Milliseconds from spawning a deployable's entry to its readiness endpoint answering 200. */
async function coldStart(ctx: BenchContext, name: DeployableName, form: 'compiled' | 'tsx'): Promise<number> {
  const port = await freePort();
  const began = performance.now();
  const started = startEntry(entryOf(name, form), {
    ...ctx.env,
    NODE_ENV: form === 'compiled' ? 'production' : 'development',
    BFF_PORT: String(port),
  });
  try {
    await waitFor(
      `${name} (${form}) to be ready`,
      async () => {
        if (started.child.exitCode !== null) throw new Error(`${name} exited: ${started.output()}`);
        const workerPort = /"port":(\d+),"msg":"health endpoints listening/.exec(started.output())?.[1];
        const url =
          name === 'bff' ? `http://127.0.0.1:${port}` : workerPort ? `http://127.0.0.1:${workerPort}` : undefined;
        return (
          url !== undefined &&
          (await fetch(`${url}/readyz`).then(
            (r) => r.status === 200,
            () => false,
          ))
        );
      },
      180_000,
      20,
    );
    return performance.now() - began;
  } finally {
    started.child.kill('SIGTERM');
    await started.exited;
  }
}

export async function coldStartRows(ctx: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  for (const name of DEPLOYABLE_NAMES) {
    const compiled = await coldStart(ctx, name, 'compiled');
    const tsx = await coldStart(ctx, name, 'tsx');
    rows.push(
      row(
        'cold start',
        `${name}: spawn → /readyz 200, compiled vs tsx`,
        'value',
        'ms',
        { label: `node dist/${name}/${name}.main.js (prebuilt workflow bundle)`, value: compiled },
        { label: `node --import tsx ${name}/${name}.main.ts (bundles workflows at start)`, value: tsx },
      ),
    );
  }
  return rows;
}

/** The image against its floor: the base, production node_modules and dist/ as measured inside it. */
export function imageRows(ctx: BenchContext): Row[] {
  const podman = ensurePodman(ctx.say);
  const image = buildAppImage(podman, ctx.say);
  const baseBytes = Number(podman.run(['image', 'inspect', '--format', '{{.Size}}', image.base], 'inspect').trim());
  const measured = podman
    .run(['run', '--rm', '--entrypoint', 'du', image.name, '-sb', '/app/node_modules', '/app/dist'], 'du in the image')
    .trim()
    .split('\n')
    .map((line) => Number(line.split('\t')[0]));
  const floor = baseBytes + measured.reduce((a, b) => a + b, 0);
  const mib = (bytes: number) => bytes / 1024 / 1024;
  return [
    row(
      'image',
      'image size vs its floor',
      'value',
      'MiB',
      { label: `${image.name.split(':')[0]} (podman image size)`, value: mib(image.sizeBytes) },
      { label: 'base image + production node_modules + dist/, measured on disk', value: mib(floor) },
      `goal ≤ 1.05×; base ${mib(baseBytes).toFixed(0)} MiB, node_modules ${mib(measured[0] ?? 0).toFixed(0)} MiB, dist ${mib(measured[1] ?? 0).toFixed(1)} MiB`,
    ),
  ];
}
