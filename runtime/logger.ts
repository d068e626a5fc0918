import { join, parse } from 'node:path';
import { pino, type Logger } from 'pino';
import { traceFields } from './tracing.ts';

export type { Logger };

/** A log file rotates at this size and this many files are kept (the newest is written): ≤ 100 MB a process. */
export const LOG_ROTATION = { size: '20m', files: 5 } as const;

/**
 * One pino logger per process: JSON lines, pretty-printed only on a terminal outside production.
 * A line written inside a traced context carries its `trace_id` and `span_id` (runtime/tracing.ts).
 * With `file` (LOG_FILE), the lines go to that file instead, rotated by pino-roll: `app.log` is
 * written as `app.1.log`, `app.2.log`, … and only the newest LOG_ROTATION.files stay.
 */
export function createLogger(options: {
  level: string;
  name: string;
  production: boolean;
  file?: string;
  rotation?: { size: string; files: number };
}): Logger {
  if (options.file) {
    const { dir, name, ext } = parse(options.file);
    const rotation = options.rotation ?? LOG_ROTATION;
    return pino({
      name: options.name,
      level: options.level,
      mixin: traceFields,
      transport: {
        target: 'pino-roll',
        options: {
          file: join(dir, name),
          extension: ext || '.log',
          size: rotation.size,
          limit: { count: rotation.files - 1 },
          mkdir: true,
        },
      },
    });
  }
  // pino-pretty is a development dependency: a production install does not have it.
  const pretty = process.stdout.isTTY === true && !options.production;
  return pino({
    name: options.name,
    level: options.level,
    mixin: traceFields,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
