import { pino, type Logger } from 'pino';

export type { Logger };

/** One pino logger per process: JSON lines, pretty-printed only on a terminal outside production. */
export function createLogger(options: { level: string; name: string; production: boolean }): Logger {
  // pino-pretty is a development dependency: a production install does not have it.
  const pretty = process.stdout.isTTY === true && !options.production;
  return pino({
    name: options.name,
    level: options.level,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
