// LISTEN on a Postgres channel from one dedicated connection per process, so a caller can sleep until
// a transaction that NOTIFYs on it commits instead of polling: the relay waits on `event_outbox`
// (a trigger notifies on commit, services/kernel/migrations/0004-outbox-readers.sql), the BFF's
// `minVersion` reads on `projection_applied` (the projector notifies in each batch's transaction).
import pg from 'pg';
import type { Logger } from './logger.ts';

export interface PgListener {
  /** Counts notifications received; take it before reading what a notification would change. */
  readonly generation: number;
  /**
   * Resolves true once a notification arrived after `since` (at once if one already has), false
   * after `timeoutMs`. Without a connection it only waits out the time: callers re-read either way.
   */
  waitForChange(since: number, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export function createPgListener(databaseUrl: string, channel: string, logger: Logger): PgListener {
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client | undefined> | undefined;
  let generation = 0;
  const waiters = new Set<() => void>();

  const connect = (): Promise<pg.Client | undefined> => {
    connecting ??= (async () => {
      const fresh = new pg.Client({ connectionString: databaseUrl });
      fresh.on('notification', () => {
        generation++;
        for (const wake of [...waiters]) wake();
      });
      fresh.on('error', (error) => {
        logger.warn({ err: error, channel }, 'listener lost its connection; will reconnect');
        client = undefined;
        connecting = undefined;
      });
      try {
        await fresh.connect();
        await fresh.query(`listen ${pg.escapeIdentifier(channel)}`);
        client = fresh;
        return fresh;
      } catch (error) {
        logger.warn({ err: error, channel }, 'listener cannot connect; falling back to timed waits');
        connecting = undefined;
        await fresh.end().catch(() => undefined); // the failed client is discarded either way
        return undefined;
      }
    })();
    return connecting;
  };

  return {
    get generation() {
      return generation;
    },
    async waitForChange(since, timeoutMs) {
      if (!client) await connect();
      if (generation > since) return true;
      return new Promise<boolean>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(true);
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          resolve(false);
        }, timeoutMs);
        waiters.add(wake);
      });
    },
    async close() {
      for (const wake of [...waiters]) wake();
      await client?.end().catch(() => undefined); // closing: a failure to say goodbye changes nothing
    },
  };
}
