// 7. Memory: each deployable's RSS idle (started, caught up, settled) and its peak while the bench
// loads it, against a Node process started the same way doing nothing.
import { startEntry } from '../test/support/processes.ts';
import type { BenchContext, DeployableName } from './context.ts';
import { row, rssMiB, sleep, type Row } from './measure.ts';

export interface MemoryBook {
  idle: Partial<Record<DeployableName, number>>;
  peak: Partial<Record<DeployableName, number>>;
}

export const newMemoryBook = (): MemoryBook => ({ idle: {}, peak: {} });

/** Starts the deployable, waits until `settled` says it has nothing left to do, then records its idle RSS. */
export async function recordIdle(
  ctx: BenchContext,
  book: MemoryBook,
  name: DeployableName,
  settled: () => Promise<void> = async () => undefined,
): Promise<void> {
  const started = await ctx.deployable(name);
  await settled();
  await sleep(3_000);
  book.idle[name] = rssMiB(started.child.pid!);
}

/** Runs `work` while sampling the RSS of `names` every 200 ms; keeps each one's peak. */
export async function samplePeak<T>(
  ctx: BenchContext,
  book: MemoryBook,
  names: DeployableName[],
  work: () => Promise<T>,
): Promise<T> {
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const name of names) {
        const pid = ctx.running()[name]?.child.pid;
        if (pid) {
          try {
            book.peak[name] = Math.max(book.peak[name] ?? 0, rssMiB(pid));
          } catch {
            // the process was restarted between reading the pid and its status
          }
        }
      }
      await sleep(200);
    }
  })();
  try {
    return await work();
  } finally {
    sampling = false;
    await sampler;
  }
}

export async function memoryRows(ctx: BenchContext, book: MemoryBook): Promise<Row[]> {
  const idle = startEntry('bench/idle.ts', { PATH: process.env.PATH });
  await sleep(3_000);
  const bare = rssMiB(idle.child.pid!);
  idle.child.kill('SIGTERM');
  await idle.exited;
  const baseline = { label: 'node --import tsx, idle script', value: bare };
  const rows: Row[] = [];
  for (const name of ['bff', 'saga-worker', 'relay', 'projector'] as const) {
    const idleRss = book.idle[name];
    const peak = book.peak[name];
    if (idleRss !== undefined)
      rows.push(
        row('memory', `${name} RSS idle`, 'value', 'MiB', { label: `${name} process, idle`, value: idleRss }, baseline),
      );
    if (peak !== undefined)
      rows.push(
        row(
          'memory',
          `${name} RSS under load (peak)`,
          'value',
          'MiB',
          { label: `${name} process, peak under the bench load`, value: peak },
          baseline,
        ),
      );
  }
  return rows;
}
