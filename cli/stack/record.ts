// stack.json in the state folder: what `up` started (pids), so `down` stops exactly that.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

const startedProcess = z.object({ pid: z.number().int().positive(), marker: z.string() });

const stackRecord = z.object({
  postgres: startedProcess.optional(),
  nats: startedProcess.optional(),
  temporal: startedProcess.optional(),
  openfga: startedProcess.optional(),
  jaeger: startedProcess.optional(),
  /** The deployables' processes by the name their topology gives them (single-vps: one, `app`). */
  apps: z
    .record(z.string(), startedProcess.extend({ mode: z.enum(['compiled', 'dev']), deployables: z.array(z.string()) }))
    .optional(),
  topology: z.string().optional(),
});

export type StackRecord = z.infer<typeof stackRecord>;
export type RecordedComponent = keyof StackRecord;

export function readRecord(file: string): StackRecord {
  if (!existsSync(file)) return {};
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  // Written before topologies: one all-in-one process under `app`.
  if (raw.app && !raw.apps) {
    raw.apps = {
      app: { mode: 'dev', deployables: ['bff', 'saga-worker', 'relay', 'projector'], ...raw.app },
    };
    raw.topology = 'single-vps';
  }
  const parsed = stackRecord.safeParse(raw);
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
