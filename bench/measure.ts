// Measurement helpers shared by the benchmarks: closed-loop load, percentiles, RSS.
import { readFileSync } from 'node:fs';

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
}

export interface Row {
  group: string;
  name: string;
  /** Which number the ratio compares: project ÷ baseline. */
  compare: 'throughput' | 'p50' | 'value';
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
