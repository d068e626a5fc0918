// LISTEN event_outbox (see the trigger in 0004-outbox-readers.sql): lets an idle relay sleep until a
// transaction with events commits, instead of polling. One connection per relay process.
import pg from 'pg';
import type { Logger } from '../runtime/logger.ts';

export interface OutboxListener {
  /** Resolves true on a notification, false after `timeoutMs`. */
  waitForEvents(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export function createOutboxListener(databaseUrl: string, logger: Logger): OutboxListener {
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client | undefined> | undefined;
  const waiters = new Set<() => void>();

  const connect = (): Promise<pg.Client | undefined> => {
    connecting ??= (async () => {
      const fresh = new pg.Client({ connectionString: databaseUrl });
      fresh.on('notification', () => {
        for (const wake of [...waiters]) wake();
      });
      fresh.on('error', (error) => {
        logger.warn({ err: error }, 'outbox listener lost its connection; will reconnect');
        client = undefined;
        connecting = undefined;
      });
      try {
        await fresh.connect();
        await fresh.query('listen event_outbox');
        client = fresh;
        return fresh;
      } catch (error) {
        logger.warn({ err: error }, 'outbox listener cannot connect; falling back to timed waits');
        connecting = undefined;
        return undefined;
      }
    })();
    return connecting;
  };

  return {
    async waitForEvents(timeoutMs) {
      if (!client) await connect();
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
      await client?.end().catch(() => undefined);
    },
  };
}
