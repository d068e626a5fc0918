// stack.json in the state folder: what `up` started (pids), so `down` stops exactly that.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

const startedProcess = z.object({ pid: z.number().int().positive(), marker: z.string() });

const stackRecord = z.object({
  postgres: startedProcess.optional(),
  nats: startedProcess.optional(),
  temporal: startedProcess.optional(),
  app: startedProcess.extend({ mode: z.enum(['compiled', 'dev']).default('dev') }).optional(),
});

export type StackRecord = z.infer<typeof stackRecord>;
export type RecordedComponent = keyof StackRecord;

export function readRecord(file: string): StackRecord {
  if (!existsSync(file)) return {};
  const parsed = stackRecord.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  return parsed.success ? parsed.data : {};
}

export function writeRecord(file: string, record: StackRecord): void {
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
}

/** True when `pid` is alive and its command line still contains `marker` (guards against pid reuse). */
export function isOurProcess(entry: { pid: number; marker: string } | undefined): boolean {
  if (!entry) return false;
  try {
    return readFileSync(`/proc/${entry.pid}/cmdline`, 'utf8').split('\0').join(' ').includes(entry.marker);
  } catch {
    return false;
  }
}
