import { pino, type Logger } from 'pino';

export type { Logger };

/** One pino logger per process: JSON lines, pretty-printed only when stdout is a terminal. */
export function createLogger(options: { level: string; name: string }): Logger {
  const pretty = process.stdout.isTTY === true;
  return pino({
    name: options.name,
    level: options.level,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
