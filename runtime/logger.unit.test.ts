// LOG_FILE: the log goes to a file that rotates by size and keeps a bounded number of files.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { pino } from 'pino';
import { createLogger } from './logger.ts';

describe('logger with LOG_FILE', () => {
  it('rotates by size and keeps only the newest files; the newest holds the last line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-'));
    try {
      const logger = createLogger({
        level: 'info',
        name: 'rotation-test',
        production: true,
        file: join(dir, 'app.log'),
        rotation: { size: '20k', files: 3 },
      });
      const flushed = () =>
        new Promise<void>((resolve, reject) => logger.flush((error) => (error ? reject(error) : resolve())));
      // A file rolls after the write that took it past the size: lines come in chunks, as a running service writes them.
      for (let i = 0; i < 3_000; i++) {
        logger.info({ i, pad: 'x'.repeat(100) }, 'line');
        if (i % 50 === 49) await flushed();
      }
      // End the transport: its worker thread writes what it holds and exits.
      const stream = (
        logger as unknown as Record<symbol, { end(): void; once(event: 'close', listener: () => void): void }>
      )[pino.symbols.streamSym]!;
      await new Promise<void>((resolve) => {
        stream.once('close', resolve);
        stream.end();
      });
      const files = async () => {
        for (let wait = 0; wait < 50; wait++) {
          const names = readdirSync(dir);
          if (names.length <= 3) return names;
          await new Promise((resolve) => setTimeout(resolve, 50)); // old files are removed asynchronously
        }
        return readdirSync(dir);
      };
      const names = (await files()).sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
      assert.ok(names.length >= 2 && names.length <= 3, `at most 3 files kept: ${names.join(', ')}`);
      for (const name of names) assert.match(name, /^app\.\d+\.log$/);
      const newest = names.at(-1)!;
      assert.ok(Number(newest.split('.')[1]) > 3, `rolled many times: ${names.join(', ')}`);
      const total = names.reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
      assert.ok(total < 3 * 30 * 1024, `${total} bytes kept (3 files of 20 KB and at most one chunk more)`);
      // (a file rolls right after the write that fills it, so the newest may still be empty)
      const written = names.filter((name) => statSync(join(dir, name)).size > 0).at(-1)!;
      const last = readFileSync(join(dir, written), 'utf8').trimEnd().split('\n').at(-1)!;
      assert.equal((JSON.parse(last) as { i: number }).i, 2_999);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
