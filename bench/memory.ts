// 7. Memory: each deployable's RSS idle (started, caught up, settled) and its peak while the bench
// loads it; the rows compare them with their floors (bench/artifact.bench.ts).
import type { DeployableName } from '../runtime/deployable.ts';
import type { BenchContext } from './context.ts';
import { rssMiB, sleep } from './measure.ts';

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
