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
import { bffClient } from '../cli/api-client.ts';
import { chromium } from 'playwright-core';
import { HTTP_ROUTES } from '../contracts/http-api.ts';
import { EVENT_CONTRACTS } from '../contracts/events.ts';
import { join } from 'node:path';
import { repoRoot } from '../test/support/processes.ts';
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

  /** A counter change through the typed client (cli/api-client.ts): path, headers and body as the document types them. */
  const change = (
    action: 'increment' | 'decrement',
    counterId: string,
    by: number,
    { key = randomUUID(), token = member, ifMatch }: { key?: string; token?: string; ifMatch?: string } = {},
  ) =>
    bffClient(bff.base, token).POST(`/v1/tenants/{tenantId}/counters/{counterId}/${action}`, {
      params: {
        path: { tenantId: TENANT, counterId },
        header: { 'Idempotency-Key': key, ...(ifMatch ? { 'If-Match': ifMatch } : {}) },
      },
      body: { by },
    });
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
          const { data, error, response } = await change('increment', counter, 1, { ifMatch: `"${version}"` });
          if (data) {
            ok++;
            version = data.version;
            break;
          }
          assert.equal(response.status, 409, JSON.stringify(error));
          assert.equal(error?.code, 'VERSION_CONFLICT');
          conflicts++;
          version = error.currentVersion; // the 409 says what to retry with (typed by the code's contract)
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
    const responses = await Promise.all(Array.from({ length: 64 }, () => change('increment', counter, 2)));
    assert.deepEqual([...new Set(responses.map((r) => r.response.status))], [200]);
    assert.equal((await sourceState(counter)).value, 128);
    assert.equal((await eventsOf(counter)).length, 64);
  });

  it('idempotency: 100 concurrent requests with one key and body make one change and identical responses', async () => {
    const counter = 'idem-burst';
    const key = randomUUID();
    // Bodies as text, to compare them byte for byte.
    const send = () =>
      bffClient(bff.base, member).POST('/v1/tenants/{tenantId}/counters/{counterId}/increment', {
        params: { path: { tenantId: TENANT, counterId: counter }, header: { 'Idempotency-Key': key } },
        body: { by: 7 },
        parseAs: 'text',
      });
    const first = await Promise.all(Array.from({ length: 100 }, send));
    const settled = await Promise.all(
      first.map(async (response) => {
        let current = response;
        while (current.error?.code === 'IDEMPOTENCY_IN_FLIGHT') current = await send();
        return current;
      }),
    );
    assert.deepEqual([...new Set(settled.map((r) => r.response.status))], [200]);
    assert.equal(new Set(settled.map((r) => r.data)).size, 1, 'every body byte-identical');
    assert.equal(settled.filter((r) => r.response.headers.get('idempotent-replayed') === 'true').length, 99);
    const events = await eventsOf(counter);
    assert.equal(events.length, 1);
    assert.equal((await sourceState(counter)).value, 7);
  });

  it('idempotency: the same key with another body is 422 IDEMPOTENCY_KEY_REUSED and changes nothing', async () => {
    const counter = 'idem-reuse';
    const key = randomUUID();
    const first = await change('increment', counter, 1, { key });
    assert.equal(first.response.status, 200);
    const reused = await change('increment', counter, 2, { key });
    assert.equal(reused.response.status, 422);
    assert.equal(reused.error?.code, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal((await eventsOf(counter)).length, 1);
  });

  it("idempotency: keys are scoped by caller: another member's request with the same key is a request of its own", async () => {
    const counter = 'idem-callers';
    const key = randomUUID();
    const other = await devToken({ user: 'member-2' });
    const first = await change('increment', counter, 1, { key });
    const second = await change('increment', counter, 5, { key, token: other });
    assert.deepEqual([first.response.status, second.response.status], [200, 200]);
    assert.equal(second.response.headers.get('idempotent-replayed'), null, 'not the first caller’s stored response');
    assert.deepEqual([first.data?.value, second.data?.value], [1, 6]);
    const replay = await change('increment', counter, 5, { key, token: other });
    assert.equal(replay.response.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.data?.value, 6);
    assert.equal((await eventsOf(counter)).length, 2);
  });

  it('idempotency: a replay after a server restart returns the stored response', async () => {
    const counter = 'idem-restart';
    const key = randomUUID();
    const before = await change('increment', counter, 3, { key });
    assert.equal(before.response.status, 200);
    await bff.stop();
    bff = await startTestBff(db.url, port);
    const afterRestart = await change('increment', counter, 3, { key });
    assert.equal(afterRestart.response.status, 200);
    assert.deepEqual(afterRestart.data, before.data);
    assert.equal(afterRestart.response.headers.get('idempotent-replayed'), 'true');
    assert.equal(afterRestart.response.headers.get('etag'), before.response.headers.get('etag'));
    assert.equal((await eventsOf(counter)).length, 1);
  });

  it('idempotency: a failed (rolled back) request leaves no key behind, so a retry can succeed later', async () => {
    const counter = 'idem-rollback';
    const key = randomUUID();
    const decrement = () => change('decrement', counter, 5, { key });
    const refused = await decrement();
    assert.equal(refused.response.status, 409);
    assert.equal(refused.error?.code, 'COUNTER_FLOOR_REACHED');
    assert.deepEqual([refused.error.value, refused.error.floor], [0, 0]);
    const keys = await pool.oneFirst(
      sql.type(z.object({ n: z.coerce.number() }))`select count(*) as n from idempotency_keys where key = ${key}`,
    );
    assert.equal(keys, 0);
    await change('increment', counter, 10);
    const retried = await decrement();
    assert.equal(retried.response.status, 200, JSON.stringify(retried.error));
    assert.equal(retried.data?.value, 5);
    assert.equal(retried.response.headers.get('idempotent-replayed'), null);
  });

  it('reset sets the counter to 0 and accepts an empty body', async () => {
    const counter = 'reset-me';
    await change('increment', counter, 9);
    // No body at all: the typed client would send `{}`, so this one is raw HTTP.
    const reset = await call(bff.base, 'POST', `/v1/tenants/${TENANT}/counters/${counter}/reset`, {
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

  it('serves /openapi.json and /asyncapi.json (the committed, generated documents), /docs rendered by Swagger UI and /docs/events by the AsyncAPI component', async () => {
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

      // The events page: the AsyncAPI document rendered by the AsyncAPI React component, every event
      // type in it, under the same Content-Security-Policy.
      const events = await browser.newPage();
      const problems: string[] = [];
      const eventsOffsite: string[] = [];
      events.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      events.on('pageerror', (error) => problems.push(error.message));
      events.on('request', (request) => {
        if (!request.url().startsWith(bff.base)) eventsOffsite.push(request.url());
      });
      await events.goto(`${bff.base}/docs/events`);
      await events.waitForSelector('#introduction', { timeout: 30_000 });
      const text = await events.locator('#events').innerText();
      const missing = EVENT_CONTRACTS.filter((event) => !text.includes(event.eventType)).map((e) => e.eventType);
      assert.deepEqual(missing, [], 'every event type is on the page');
      assert.deepEqual(problems, [], 'no script error, no Content-Security-Policy violation');
      assert.deepEqual(eventsOffsite, [], 'the events page loads nothing from elsewhere');
      await events.screenshot({ path: join(repoRoot, 'test-artifacts', 'docs-events.png'), fullPage: false });
    } finally {
      await browser.close();
    }
  });
});
