// Hostile strings in every field the API reads: claims, headers, paths, query and bodies. Each is
// refused at the edge with 400 VALIDATION_FAILED as problem+json (never a 5xx), and nothing is
// stored. Generated with fast-check (test/support/hostile-text.ts).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import fc from 'fast-check';
import { after, before, describe, it } from 'mocha';
import { sql } from 'slonik';
import { z } from 'zod';
import { createDatabasePool, type DatabasePool } from '../services/kernel/database.ts';
import { devToken, startTestBff, type TestBff } from '../test/support/bff.ts';
import { createMigratedDatabase, type FreshDatabase } from '../test/support/database.ts';
import { testStack } from '../test/support/env.ts';
import { hostileText } from '../test/support/hostile-text.ts';
import { activeTenantRows, testAuthz } from '../test/support/tenants.ts';
import { call, type CallResult } from '../test/support/http.ts';

const TENANT = `acme-${randomUUID().slice(0, 8)}`;
const RUNS = 40;

/** Percent-encodes every UTF-16 code unit as its own bytes, so lone surrogates and NUL reach the path as they are. */
const rawPathSegment = (value: string) =>
  [...Array(value.length).keys()]
    .map((i) => {
      const unit = value.charCodeAt(i);
      if (/[A-Za-z0-9_-]/.test(value[i]!)) return value[i]!;
      if (unit < 0x80) return `%${unit.toString(16).padStart(2, '0')}`;
      // a code unit as the UTF-8 bytes it would have alone (invalid UTF-8 for a surrogate, as an attacker sends it)
      const bytes =
        unit < 0x800
          ? [0xc0 | (unit >> 6), 0x80 | (unit & 0x3f)]
          : [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)];
      return bytes.map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    })
    .join('');

describe('hostile strings in every field → 400 VALIDATION_FAILED, nothing stored', function () {
  this.timeout(300_000);
  let db: FreshDatabase;
  let pool: DatabasePool;
  let bff: TestBff;
  let member: string;

  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'hostile');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 2 });
    bff = await startTestBff(db.url);
    // Rows only (no events), so the last test can check that nothing at all was stored.
    await activeTenantRows(pool, TENANT, { owner: 'test-user', authz: testAuthz() });
    member = await devToken({ user: 'test-user' });
  });
  after(async () => {
    await bff?.stop();
    await pool?.end();
    await db?.drop();
  });

  const refused = (response: CallResult, field: string, value: string) => {
    const what = `${field} = ${JSON.stringify(value)}: ${response.status} ${response.text.slice(0, 300)}`;
    assert.equal(response.status, 400, what);
    assert.equal(response.headers.get('content-type'), 'application/problem+json', what);
    assert.equal(response.json.code, 'VALIDATION_FAILED', what);
  };
  const increment = (options: { token?: string; path?: string; headers?: Record<string, string>; body?: unknown }) =>
    call(bff.base, 'POST', options.path ?? `/v1/tenants/${TENANT}/counters/c1/increment`, {
      token: options.token ?? member,
      headers: { 'idempotency-key': randomUUID(), ...options.headers },
      body: options.body ?? { by: 1 },
    });

  const fields: [string, (value: string) => Promise<CallResult>][] = [
    [
      'body: tenant name',
      (name) =>
        call(bff.base, 'POST', '/v1/tenants', {
          token: member,
          headers: { 'idempotency-key': randomUUID() },
          // Inside the name: a tenant name is trimmed first, so a control character at either end (a
          // newline, a tab) is removed rather than refused.
          body: { slug: 'acme-co', name: `x${name}x`, plan: 'free' },
        }),
    ],
    [
      'body: tenant slug',
      (slug) =>
        call(bff.base, 'POST', '/v1/tenants', {
          token: member,
          headers: { 'idempotency-key': randomUUID() },
          body: { slug, name: 'Acme', plan: 'free' },
        }),
    ],
    ['body: a key of its own', (key) => increment({ body: { by: 1, [key]: 1 } })],
    ['claim: sub', async (user) => increment({ token: await devToken({ user }) })],
    ['claim: roles', async (role) => increment({ token: await devToken({ roles: ['platform-admin', role] }) })],
    ['path: tenant id', (id) => increment({ path: `/v1/tenants/${rawPathSegment(id)}/counters/c1/increment` })],
    ['path: counter id', (id) => increment({ path: `/v1/tenants/${TENANT}/counters/${rawPathSegment(id)}/increment` })],
    [
      'query: minVersion',
      (v) =>
        call(bff.base, 'GET', `/v1/tenants/${TENANT}/counters/c1?minVersion=${rawPathSegment(v)}`, { token: member }),
    ],
  ];
  for (const [field, send] of fields) {
    it(`${field}`, async () => {
      await fc.assert(
        fc.asyncProperty(hostileText(), async (value) => refused(await send(value), field, value)),
        { numRuns: RUNS },
      );
    });
  }

  it('headers: Idempotency-Key and If-Match with bytes outside visible ASCII', async () => {
    // fetch sends header values as Latin-1 bytes; control characters it refuses to send at all (next test).
    const latin1 = fc
      .tuple(fc.string({ maxLength: 8 }), fc.integer({ min: 0x80, max: 0xff }), fc.string({ maxLength: 8 }))
      .map(([a, code, b]) => `${a}${String.fromCharCode(code)}${b}`);
    await fc.assert(
      fc.asyncProperty(latin1, async (value) => {
        refused(await increment({ headers: { 'idempotency-key': value } }), 'Idempotency-Key', value);
        refused(await increment({ headers: { 'if-match': value } }), 'If-Match', value);
      }),
      { numRuns: RUNS },
    );
  });

  it('headers: a NUL or control character in a header is refused by the HTTP parser, also as problem+json 400', async () => {
    const { port } = new URL(bff.base);
    for (const unit of ['\u0000', '\u0001', '\u001b', '\u007f']) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1');
        let text = '';
        socket.on('data', (chunk) => (text += chunk.toString('latin1')));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
        socket.write(
          `POST /v1/tenants/${TENANT}/counters/c1/increment HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${member}\r\nIdempotency-Key: a${unit}b\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{"by":1}`,
          'latin1',
        );
      });
      assert.match(answer, /^HTTP\/1\.1 400 /, JSON.stringify(unit));
      assert.match(answer, /content-type: application\/problem\+json/i);
      assert.match(answer, /"code":"VALIDATION_FAILED"/);
    }
  });

  it('a hostile X-Request-Id is not echoed: the request gets an id of its own', async () => {
    const response = await fetch(`${bff.base}/healthz`, { headers: { 'x-request-id': 'a\u00e9b' } });
    assert.equal(response.status, 200);
    assert.match(String(response.headers.get('x-request-id')), /^[0-9a-f-]{36}$/);
  });

  it('nothing was stored: no event, no counter, no tenant (but the fixture’s), no idempotency key', async () => {
    const counts = await pool.one(sql.type(
      z.object({
        events: z.coerce.number(),
        counters: z.coerce.number(),
        tenants: z.coerce.number(),
        keys: z.coerce.number(),
      }),
    )`
      select (select count(*) from event_outbox) as events, (select count(*) from counters) as counters,
             (select count(*) from tenants) as tenants, (select count(*) from idempotency_keys) as keys`);
    assert.deepEqual(counts, { events: 0, counters: 0, tenants: 1, keys: 0 });
  });
});
