// Measurement helpers shared by the benchmarks: closed-loop load, percentiles, RSS.
import { readdirSync, readFileSync } from 'node:fs';

export interface Measure {
  /** What was measured, in a few words. */
  label: string;
  /** Operations (or events) per second. */
  throughput?: number;
  /** Latency percentiles in milliseconds. */
  p50?: number;
  p95?: number;
  p99?: number;
  /** A single value (e.g. RSS in MiB). */
  value?: number;
  count?: number;
  errors?: number;
  /** How many runs this is the median of, and the lowest and highest value of the compared number. */
  runs?: number;
  spread?: [number, number];
  /** CPU milliseconds per operation: the load generator (this process and its children) and the servers. */
  cpu?: { client: number; server: number };
}

export interface Row {
  group: string;
  name: string;
  /** Which number the ratio compares: project ÷ baseline. */
  compare: 'throughput' | 'p50' | 'p99' | 'value';
  unit: string;
  project: Measure;
  baseline: Measure;
  ratio: number;
  note?: string;
}

export function row(
  group: string,
  name: string,
  compare: Row['compare'],
  unit: string,
  project: Measure,
  baseline: Measure,
  note?: string,
): Row {
  const a = project[compare];
  const b = baseline[compare];
  if (a === undefined || b === undefined || b === 0)
    throw new Error(`${group}/${name}: no ${compare} to compare (${a} vs ${b})`);
  return { group, name, compare, unit, project, baseline, ratio: a / b, ...(note ? { note } : {}) };
}

/** Runs `measure` `runs` times; the run with the median `by` stands for all, with the spread of `by`. */
export async function medianOf(
  runs: number,
  by: 'throughput' | 'p50' | 'p99' | 'value',
  measure: () => Promise<Measure>,
): Promise<Measure> {
  const results: Measure[] = [];
  for (let i = 0; i < runs; i++) results.push(await measure());
  const key = (m: Measure) => m[by] ?? Number.NaN;
  results.sort((a, b) => key(a) - key(b));
  return { ...results[Math.floor(results.length / 2)]!, runs, spread: [key(results[0]!), key(results.at(-1)!)] };
}

const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

/** user + system CPU ticks of a process (and, with `children`, of its waited-for children). */
function cpuTicks(pid: number | 'self', children = false): number {
  try {
    // The fields after the command name (which may contain spaces or parentheses): utime is the 12th of them.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]));
    return utime! + stime! + (children ? cutime! + cstime! : 0);
  } catch {
    return 0; // the process ended: its time is no longer measurable
  }
}

/** The processes on this machine whose /proc/<pid>/`file` passes `test` (one that ends meanwhile does not). */
function pidsWhere(file: 'comm' | 'cmdline', test: (text: string) => boolean): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return test(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Every Postgres server process on this machine (the bench's cluster is the only busy one). */
export const postgresPids = (): number[] => pidsWhere('comm', (comm) => comm.trim() === 'postgres');

/** The processes whose command line (arguments joined by spaces) contains `part`. */
export const pidsByCommandLine = (part: string): number[] =>
  pidsWhere('cmdline', (cmdline) => cmdline.split('\0').join(' ').includes(part));

/** The OpenFGA server serving HTTP on `url`'s host and port, if it runs on this machine (the local stack starts it so). */
export const openFgaPids = (url: string): number[] => pidsByCommandLine(`--http-addr ${new URL(url).host}`);

/** CPU time (user + system, with waited-for children) the processes `pids` have used so far, in ms. */
export const cpuMs = (pids: readonly (number | 'self')[]): number =>
  pids.reduce<number>((sum, pid) => sum + (cpuTicks(pid, true) / CLOCK_TICKS_PER_S) * 1000, 0);

/**
 * Measures `work` and adds the CPU it cost per operation: the load generator (this process and the
 * children it waited for, e.g. pgbench) and the servers (`serverPids()`, e.g. Postgres and the BFF) —
 * on a machine where they share the cores, throughput alone hides who spent them.
 */
export async function withCpu(serverPids: () => number[], work: () => Promise<Measure>): Promise<Measure> {
  // Listed at each reading, with waited-for children: a backend that starts during the work counts
  // from zero, and one that exits moves its time into the postmaster's children time.
  const server = () => cpuMs(serverPids());
  const [client0, server0] = [cpuMs(['self']), server()];
  const measure = await work();
  const ops = measure.count ?? 0;
  if (ops === 0) return measure;
  return { ...measure, cpu: { client: (cpuMs(['self']) - client0) / ops, server: (server() - server0) / ops } };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function latencyMeasure(label: string, latenciesMs: number[], seconds: number, errors = 0): Measure {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    label,
    throughput: sorted.length / seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    count: sorted.length,
    errors,
  };
}

/** `concurrency` loops calling `operation` back to back for `durationMs`; latency of each call. */
export async function closedLoop(
  label: string,
  concurrency: number,
  durationMs: number,
  operation: (worker: number) => Promise<void>,
): Promise<Measure> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: unknown;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          await operation(worker);
          latencies.push(performance.now() - t0);
        } catch (error) {
          errors++;
          firstError ??= error;
        }
      }
    }),
  );
  if (errors > 0 && latencies.length === 0) throw firstError;
  return latencyMeasure(label, latencies, (performance.now() - started) / 1000, errors);
}

/** Resident set size of a process in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it is true; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 120_000,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
