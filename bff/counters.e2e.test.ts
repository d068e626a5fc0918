// The counter reference chain over HTTP, on the real BFF deployable and real Postgres: CAS under
// concurrency, idempotency (duplicates, reuse, restart, rollback), reads with ETag.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'mocha';
import { sql } from 'slonik';
import { z } from 'zod';
import { createDatabasePool, type DatabasePool } from '../services/kernel/database.ts';
import { devToken, freePort, startTestBff, type TestBff } from '../test/support/bff.ts';
import { createMigratedDatabase, type FreshDatabase } from '../test/support/database.ts';
import { testStack } from '../test/support/env.ts';
import { call } from '../test/support/http.ts';
import { chromium } from 'playwright-core';
import { HTTP_ROUTES } from '../contracts/http-api.ts';
import { onboardedTenant, testAuthz } from '../test/support/tenants.ts';

const TENANT = `acme-${randomUUID().slice(0, 8)}`;

describe('counter API (BFF → service → Postgres)', function () {
  this.timeout(300_000);
  let db: FreshDatabase;
  let pool: DatabasePool;
  let bff: TestBff;
  let port: number;
  let member: string;

  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'counters');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 2 });
    port = await freePort();
    bff = await startTestBff(db.url, port);
    await onboardedTenant(
      pool,
      { tenantId: TENANT, owner: 'owner-1', members: { 'test-user': 'member', 'member-2': 'member' } },
      testAuthz(),
    );
    member = await devToken({ user: 'test-user' });
  });
  after(async () => {
    await bff?.stop();
    await pool?.end();
    await db?.drop();
  });

  const counterPath = (counter: string, action = '') =>
    `/v1/tenants/${TENANT}/counters/${counter}${action ? `/${action}` : ''}`;
  /** The counter's source row (the command side); the read model is the projector's, tested with it. */
  const sourceState = async (counter: string) =>
    (await pool.maybeOne(sql.type(z.object({ value: z.coerce.number(), version: z.coerce.number() }))`
      select value, version from counters where tenant_id = ${TENANT} and counter_id = ${counter}`)) ?? {
      value: 0,
      version: 0,
    };
  const eventsOf = (counter: string) =>
    pool.any(sql.type(
      z.object({ version: z.coerce.number(), eventType: z.string(), payload: z.record(z.string(), z.unknown()) }),
    )`
      select aggregate_version as version, event_type as "eventType", payload from event_outbox
      where tenant_id = ${TENANT} and aggregate_type = 'counter' and aggregate_id = ${counter}
      order by aggregate_version`);

  it('CAS: 32 clients × 50 increments with If-Match (retrying 409s) end at exactly the number of 200s, one event each, versions 1..N', async () => {
    const counter = 'contended';
    const MAX_RETRIES = 5;
    let ok = 0;
    let conflicts = 0;
    const client = async () => {
      let version = 0;
      for (let increment = 0; increment < 50; increment++) {
        for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
          const response = await call(bff.base, 'POST', counterPath(counter, 'increment'), {
            token: member,
            headers: { 'idempotency-key': randomUUID(), 'if-match': `"${version}"` },
            body: { by: 1 },
          });
          if (response.status === 200) {
            ok++;
            version = response.json.version as number;
            break;
          }
          assert.equal(response.status, 409, response.text);
          assert.equal(response.json.code, 'VERSION_CONFLICT');
          conflicts++;
          version = response.json.currentVersion as number; // the 409 says what to retry with
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, client));
    const state = await sourceState(counter);
    assert.ok(ok > 0);
    assert.equal(state.value, ok, 'the counter equals the number of 200 responses');
    assert.equal(state.version, ok);
    const events = await eventsOf(counter);
    assert.equal(events.length, ok, 'exactly one outbox event per 200');
    assert.deepEqual(
      events.map((e) => e.version),
      Array.from({ length: ok }, (_, i) => i + 1),
      'versions 1..N, no gap, no duplicate',
    );
    assert.ok(conflicts > 0, 'the run really contended');
  });

  it('without If-Match, 64 concurrent writers on one counter queue on its lock: every one 200, none lost', async () => {
    const counter = 'internal-retry';
    const responses = await Promise.all(
      Array.from({ length: 64 }, () =>
        call(bff.base, 'POST', counterPath(counter, 'increment'), {
          token: member,
          headers: { 'idempotency-key': randomUUID() },
          body: { by: 2 },
        }),
      ),
    );
    assert.deepEqual([...new Set(responses.map((r) => r.status))], [200]);
    assert.equal((await sourceState(counter)).value, 128);
    assert.equal((await eventsOf(counter)).length, 64);
  });

  it('idempotency: 100 concurrent requests with one key and body make one change and identical responses', async () => {
    const counter = 'idem-burst';
    const key = randomUUID();
    const send = () =>
      call(bff.base, 'POST', counterPath(counter, 'increment'), {
        token: member,
        headers: { 'idempotency-key': key },
        body: { by: 7 },
      });
    const first = await Promise.all(Array.from({ length: 100 }, send));
    const settled = await Promise.all(
      first.map(async (response) => {
        let current = response;
        while (current.status === 409 && current.json.code === 'IDEMPOTENCY_IN_FLIGHT') current = await send();
        return current;
      }),
    );
    assert.deepEqual([...new Set(settled.map((r) => r.status))], [200]);
    assert.equal(new Set(settled.map((r) => r.text)).size, 1, 'every body byte-identical');
    assert.equal(settled.filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 99);
    const events = await eventsOf(counter);
    assert.equal(events.length, 1);
    assert.equal((await sourceState(counter)).value, 7);
  });

  it('idempotency: the same key with another body is 422 IDEMPOTENCY_KEY_REUSED and changes nothing', async () => {
    const counter = 'idem-reuse';
    const key = randomUUID();
    const first = await call(bff.base, 'POST', counterPath(counter, 'increment'), {
      token: member,
      headers: { 'idempotency-key': key },
      body: { by: 1 },
    });
    assert.equal(first.status, 200);
    const reused = await call(bff.base, 'POST', counterPath(counter, 'increment'), {
      token: member,
      headers: { 'idempotency-key': key },
      body: { by: 2 },
    });
    assert.equal(reused.status, 422);
    assert.equal(reused.json.code, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal((await eventsOf(counter)).length, 1);
  });

  it("idempotency: keys are scoped by caller: another member's request with the same key is a request of its own", async () => {
    const counter = 'idem-callers';
    const key = randomUUID();
    const other = await devToken({ user: 'member-2' });
    const first = await call(bff.base, 'POST', counterPath(counter, 'increment'), {
      token: member,
      headers: { 'idempotency-key': key },
      body: { by: 1 },
    });
    const second = await call(bff.base, 'POST', counterPath(counter, 'increment'), {
      token: other,
      headers: { 'idempotency-key': key },
      body: { by: 5 },
    });
    assert.deepEqual([first.status, second.status], [200, 200]);
    assert.equal(second.headers.get('idempotent-replayed'), null, 'not the first caller’s stored response');
    assert.deepEqual([first.json.value, second.json.value], [1, 6]);
    const replay = await call(bff.base, 'POST', counterPath(counter, 'increment'), {
      token: other,
      headers: { 'idempotency-key': key },
      body: { by: 5 },
    });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.json.value, 6);
    assert.equal((await eventsOf(counter)).length, 2);
  });

  it('idempotency: a replay after a server restart returns the stored response', async () => {
    const counter = 'idem-restart';
    const key = randomUUID();
    const request = { token: member, headers: { 'idempotency-key': key }, body: { by: 3 } };
    const before = await call(bff.base, 'POST', counterPath(counter, 'increment'), request);
    assert.equal(before.status, 200);
    await bff.stop();
    bff = await startTestBff(db.url, port);
    const afterRestart = await call(bff.base, 'POST', counterPath(counter, 'increment'), request);
    assert.equal(afterRestart.status, 200);
    assert.equal(afterRestart.text, before.text);
    assert.equal(afterRestart.headers.get('idempotent-replayed'), 'true');
    assert.equal(afterRestart.headers.get('etag'), before.headers.get('etag'));
    assert.equal((await eventsOf(counter)).length, 1);
  });

  it('idempotency: a failed (rolled back) request leaves no key behind, so a retry can succeed later', async () => {
    const counter = 'idem-rollback';
    const key = randomUUID();
    const decrement = () =>
      call(bff.base, 'POST', counterPath(counter, 'decrement'), {
        token: member,
        headers: { 'idempotency-key': key },
        body: { by: 5 },
      });
    const refused = await decrement();
    assert.equal(refused.status, 409);
    assert.equal(refused.json.code, 'COUNTER_FLOOR_REACHED');
    const keys = await pool.oneFirst(
      sql.type(z.object({ n: z.coerce.number() }))`select count(*) as n from idempotency_keys where key = ${key}`,
    );
    assert.equal(keys, 0);
    await call(bff.base, 'POST', counterPath(counter, 'increment'), {
      token: member,
      headers: { 'idempotency-key': randomUUID() },
      body: { by: 10 },
    });
    const retried = await decrement();
    assert.equal(retried.status, 200, retried.text);
    assert.equal(retried.json.value, 5);
    assert.equal(retried.headers.get('idempotent-replayed'), null);
  });

  it('reset sets the counter to 0 and accepts an empty body', async () => {
    const counter = 'reset-me';
    await call(bff.base, 'POST', counterPath(counter, 'increment'), {
      token: member,
      headers: { 'idempotency-key': randomUUID() },
      body: { by: 9 },
    });
    const reset = await call(bff.base, 'POST', counterPath(counter, 'reset'), {
      token: member,
      headers: { 'idempotency-key': randomUUID() },
    });
    assert.equal(reset.status, 200, reset.text);
    assert.equal(reset.json.value, 0);
    assert.deepEqual(
      (await eventsOf(counter)).map((e) => [e.eventType, e.payload]),
      [
        ['CounterIncremented', { by: 9, value: 9, version: 1 }],
        ['CounterReset', { by: 9, value: 0, version: 2 }],
      ],
    );
  });

  it('serves /openapi.json and /asyncapi.json (the committed, generated documents) and /docs, rendered by Swagger UI', async () => {
    const { readFileSync } = await import('node:fs');
    for (const name of ['openapi.json', 'asyncapi.json']) {
      const committed = JSON.parse(
        readFileSync(new URL(`../contracts/generated/${name}`, import.meta.url), 'utf8'),
      ) as unknown;
      const served = await call(bff.base, 'GET', `/${name}`);
      assert.deepEqual(served.json, committed, name);
    }
    const docs = await call(bff.base, 'GET', '/docs');
    assert.match(docs.headers.get('content-type') ?? '', /text\/html/);
    assert.doesNotMatch(docs.text, /https?:\/\//, 'no asset from another site (no CDN)');
    assert.equal((await call(bff.base, 'GET', '/docs/assets/constructor')).status, 404);

    // Swagger UI (swagger-ui-dist, served from here) renders every operation in a real browser.
    const browser = await chromium.launch({
      executablePath: testStack().CHROMIUM_PATH,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage', '--disable-gpu'],
    });
    try {
      const page = await browser.newPage();
      const offsite: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(bff.base)) offsite.push(request.url());
      });
      await page.goto(`${bff.base}/docs`);
      await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
      const paths = await page.locator('.opblock-summary-path').allTextContents();
      assert.equal(paths.length, HTTP_ROUTES.length, paths.join('\n'));
      assert.ok(paths.some((p) => p.includes('/v1/tenants/{tenantId}/counters/{counterId}/increment')));
      assert.deepEqual(offsite, [], 'the page loads nothing from elsewhere');
    } finally {
      await browser.close();
    }
  });
});
