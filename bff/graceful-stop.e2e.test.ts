// Stopping the BFF under keep-alive load: requests in flight finish, busy connections are closed
// after their response, idle ones at once, and stop() returns well within the drain time (15 s) —
// not after the 65 s keep-alive timeout.
import assert from 'node:assert/strict';
import { request, Agent } from 'node:http';
import { after, before, describe, it } from 'mocha';
import { startTestBff, type TestBff } from '../test/support/bff.ts';
import { createMigratedDatabase, type FreshDatabase } from '../test/support/database.ts';
import { testStack } from '../test/support/env.ts';

describe('BFF stop under keep-alive load', function () {
  this.timeout(120_000);
  let db: FreshDatabase;
  let bff: TestBff;

  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'stop');
    bff = await startTestBff(db.url);
  });
  after(async () => {
    await db?.drop();
  });

  it('finishes within the drain time; every answered request is a 200, none is cut mid-response', async () => {
    const { port } = new URL(bff.base);
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    /** A response that had begun and then broke off is tagged `midResponse` (what a drain must never do). */
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const call = request({ host: '127.0.0.1', port, path: '/readyz', agent }, (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
          response.on('error', (error) => reject(Object.assign(error, { midResponse: true })));
        });
        call.on('error', reject);
        call.end();
      });
    // One idle keep-alive connection: it must not hold the stop for its 65 s.
    assert.equal(await get(), 200);
    const idle = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) =>
      request({ host: '127.0.0.1', port, path: '/healthz', agent: idle }, (response) => {
        response.resume();
        response.on('end', resolve);
      })
        .on('error', reject)
        .end(),
    );

    let stopping = false;
    const statuses: number[] = [];
    const refused: string[] = [];
    const cut: string[] = [];
    const client = async () => {
      // Load until the stopped server turns a new request away.
      for (;;) {
        try {
          statuses.push(await get());
        } catch (error) {
          if ((error as { midResponse?: boolean }).midResponse) cut.push(String(error));
          // After the listener closes, a new connection is refused or reset: that is the client's cue to go elsewhere.
          else refused.push((error as NodeJS.ErrnoException).code ?? String(error));
          if (stopping) return;
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    stopping = true;
    const started = Date.now();
    await bff.stop();
    const took = Date.now() - started;
    await Promise.all(clients);
    agent.destroy();
    idle.destroy();

    assert.ok(took < 15_000, `stop() took ${took} ms`);
    assert.ok(statuses.length > 50, `${statuses.length} requests answered`);
    assert.deepEqual([...new Set(statuses)], [200]);
    assert.deepEqual(cut, [], 'no response broken off after it began');
    for (const code of refused) assert.match(code, /ECONNREFUSED|ECONNRESET|EPIPE/);
  });
});
