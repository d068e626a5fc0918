// Every malformed request gets its exact 4xx status and stable code as problem+json — never a 5xx.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT, importJWK, type JWK } from 'jose';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'mocha';
import { DEV_AUDIENCE, DEV_ISSUER } from '../cli/dev-auth.ts';
import { devToken, startTestBff, type TestBff } from '../test/support/bff.ts';
import { createMigratedDatabase, type FreshDatabase } from '../test/support/database.ts';
import { testStack } from '../test/support/env.ts';
import { call } from '../test/support/http.ts';
import { onboardedTenant, testAuthz } from '../test/support/tenants.ts';
import { createDatabasePool } from '../services/kernel/database.ts';
import { problemOf, type ErrorCode } from '../contracts/errors.ts';

const TENANT = `acme-${randomUUID().slice(0, 8)}`;
const OTHER_TENANT = `globex-${randomUUID().slice(0, 8)}`;
const path = (action: string, counter = 'c1', tenant = TENANT) =>
  `/v1/tenants/${tenant}/counters/${counter}${action ? `/${action}` : ''}`;

interface Case {
  name: string;
  method?: string;
  path?: string;
  token?:
    | 'member'
    | 'viewer'
    | 'otherTenant'
    | 'plainUser'
    | 'platformAdmin'
    | 'foreignKey'
    | 'expired'
    | 'wrongAudience'
    | 'noExpiry'
    | 'tooLong'
    | 'none';
  headers?: Record<string, string>;
  body?: unknown;
  rawBody?: string;
  status: number;
  code: ErrorCode;
  /** The Allow header a 405 must carry. */
  allow?: string;
}

const json = { 'content-type': 'application/json' };

const CASES: Case[] = [
  // authentication
  { name: 'no Authorization header', token: 'none', status: 401, code: 'UNAUTHENTICATED' },
  {
    name: 'Basic instead of Bearer',
    token: 'none',
    headers: { authorization: 'Basic dXNlcjpwYXNz' },
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'Bearer with garbage',
    token: 'none',
    headers: { authorization: 'Bearer not-a-jwt' },
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  { name: 'token signed by an unknown key', token: 'foreignKey', status: 401, code: 'UNAUTHENTICATED' },
  { name: 'expired token', token: 'expired', status: 401, code: 'UNAUTHENTICATED' },
  { name: 'token for another audience', token: 'wrongAudience', status: 401, code: 'UNAUTHENTICATED' },
  { name: 'token that never expires (no exp)', token: 'noExpiry', status: 401, code: 'UNAUTHENTICATED' },
  {
    name: 'token valid for a year (past the maximum lifetime)',
    token: 'tooLong',
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  // authorization (OpenFGA): no relation to the tenant looks like no tenant; a relation too weak is 403
  { name: 'owner of another tenant writes here', token: 'otherTenant', status: 404, code: 'NOT_FOUND' },
  { name: 'viewer tries to write', token: 'viewer', status: 403, code: 'FORBIDDEN' },
  { name: 'user with no tenant', token: 'plainUser', status: 404, code: 'NOT_FOUND' },
  {
    name: 'read of a foreign tenant',
    method: 'GET',
    path: path('', 'c1', OTHER_TENANT),
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'write to a tenant that does not exist',
    path: path('increment', 'c1', 'no-such-tenant'),
    status: 404,
    code: 'NOT_FOUND',
  },
  // headers
  { name: 'missing Idempotency-Key', headers: { 'idempotency-key': '' }, status: 400, code: 'IDEMPOTENCY_KEY_MISSING' },
  {
    name: 'Idempotency-Key of 256 characters',
    headers: { 'idempotency-key': 'k'.repeat(256) },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'Idempotency-Key with a space',
    headers: { 'idempotency-key': 'two words' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  { name: 'If-Match without quotes', headers: { 'if-match': '3' }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'If-Match *', headers: { 'if-match': '*' }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'weak If-Match', headers: { 'if-match': 'W/"3"' }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'If-Match that is not a number', headers: { 'if-match': '"three"' }, status: 400, code: 'VALIDATION_FAILED' },
  // bodies
  { name: 'malformed JSON', rawBody: '{"by":', headers: json, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'by as a string', body: { by: '1' }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'by = 0', body: { by: 0 }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'by above 1,000,000', body: { by: 1_000_001 }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'fractional by', body: { by: 1.5 }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'negative by', body: { by: -3 }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'unknown field', body: { by: 1, extra: true }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'array body', body: [1], status: 400, code: 'VALIDATION_FAILED' },
  { name: 'JSON null body', rawBody: 'null', headers: json, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'no body on increment', rawBody: '', status: 400, code: 'VALIDATION_FAILED' },
  {
    name: 'text/plain body',
    rawBody: '{"by":1}',
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'form-encoded body',
    rawBody: 'by=1',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'body over 16 KiB',
    rawBody: JSON.stringify({ by: 1, pad: 'x'.repeat(20_000) }),
    headers: json,
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  { name: 'reset with a body field', path: path('reset'), body: { by: 1 }, status: 400, code: 'VALIDATION_FAILED' },
  // paths and methods
  {
    name: 'tenant id starting with "-"',
    path: path('increment', 'c1', '-acme'),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'counter id of 65 characters',
    path: path('increment', 'c'.repeat(65)),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  { name: 'counter id with a dot', path: path('increment', 'a.b'), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'unknown action', path: path('multiply'), status: 404, code: 'NOT_FOUND' },
  {
    name: 'DELETE on a counter',
    method: 'DELETE',
    path: path(''),
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
    allow: 'HEAD, GET',
  },
  {
    name: 'GET on an action',
    method: 'GET',
    path: path('increment'),
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
    allow: 'POST',
  },
  {
    name: 'PROPFIND (a method no route takes) on an action',
    method: 'PROPFIND',
    path: path('increment'),
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
    allow: 'POST',
  },
  { name: 'PROPFIND on no route', method: 'PROPFIND', path: '/v1/nothing', status: 404, code: 'NOT_FOUND' },
  { name: 'empty If-Match', headers: { 'if-match': '' }, status: 400, code: 'VALIDATION_FAILED' },
  {
    name: 'tenant name with surrounding whitespace',
    path: '/v1/tenants',
    body: { slug: 'spaced-name', name: ' Acme ', plan: 'free' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  // admin routes
  {
    name: 'rebuild without platform-admin',
    path: '/v1/admin/projections/counters/rebuild',
    rawBody: '',
    token: 'member',
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'rebuild of an unknown projection',
    path: '/v1/admin/projections/nope/rebuild',
    rawBody: '',
    token: 'platformAdmin',
    status: 404,
    code: 'NOT_FOUND',
  },
  // business rules
  {
    name: 'decrement below the floor',
    path: path('decrement', 'empty'),
    body: { by: 1 },
    status: 409,
    code: 'COUNTER_FLOOR_REACHED',
  },
  { name: 'stale If-Match', headers: { 'if-match': '"41"' }, status: 409, code: 'VERSION_CONFLICT' },
];

describe('bad input: exact status and code for each malformed request, never 5xx', function () {
  this.timeout(120_000);
  let db: FreshDatabase;
  let bff: TestBff;
  const tokens: Record<string, string> = {};

  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'badinput');
    bff = await startTestBff(db.url);
    const pool = await createDatabasePool(db.url, { maximumPoolSize: 1 });
    try {
      const authz = testAuthz();
      await onboardedTenant(
        pool,
        { tenantId: TENANT, owner: 'acme-owner', members: { 'acme-member': 'member', 'acme-viewer': 'viewer' } },
        authz,
      );
      await onboardedTenant(pool, { tenantId: OTHER_TENANT, owner: 'globex-owner' }, authz);
    } finally {
      await pool.end();
    }
    tokens.member = await devToken({ user: 'acme-member' });
    tokens.viewer = await devToken({ user: 'acme-viewer' });
    tokens.otherTenant = await devToken({ user: 'globex-owner' });
    tokens.plainUser = await devToken({ user: 'nobody' });
    tokens.platformAdmin = await devToken({ roles: ['platform-admin'] });
    const foreign = await generateKeyPair('ES256');
    const devKey = await importJWK(JSON.parse(readFileSync(testStack().DEV_PRIVATE_JWK_FILE, 'utf8')) as JWK, 'ES256');
    const now = Math.floor(Date.now() / 1000);
    /** A token signed with `key`; each case changes one thing about it. */
    const signed = (
      subject: string,
      key: Parameters<SignJWT['sign']>[0],
      {
        audience = DEV_AUDIENCE,
        issuedAt = now,
        expires,
      }: { audience?: string; issuedAt?: number; expires?: string | number },
    ) => {
      const jwt = new SignJWT({ roles: [] })
        .setProtectedHeader({ alg: 'ES256', kid: 'local-dev-1' })
        .setSubject(subject)
        .setIssuer(DEV_ISSUER)
        .setAudience(audience)
        .setIssuedAt(issuedAt);
      if (expires !== undefined) jwt.setExpirationTime(expires);
      return jwt.sign(key);
    };
    tokens.foreignKey = await signed('mallory', foreign.privateKey, { expires: '5m' });
    tokens.expired = await signed('late', devKey, { issuedAt: now - 600, expires: now - 300 });
    tokens.noExpiry = await signed('forever', devKey, {});
    tokens.tooLong = await signed('patient', devKey, { expires: '365d' });
    tokens.wrongAudience = await signed('lost', devKey, { audience: 'some-other-api', expires: '5m' });
  });
  after(async () => {
    await bff?.stop();
    await db?.drop();
  });

  it(`covers at least 25 cases (${CASES.length})`, () => assert.ok(CASES.length >= 25));

  for (const c of CASES) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const headers: Record<string, string> = { 'idempotency-key': randomUUID(), ...(c.headers ?? {}) };
      if (headers['idempotency-key'] === '') delete headers['idempotency-key'];
      const token = c.token === 'none' ? undefined : tokens[c.token ?? 'member'];
      const response = await call(bff.base, c.method ?? 'POST', c.path ?? path('increment'), {
        ...(token ? { token } : {}),
        headers,
        ...(c.rawBody !== undefined
          ? { rawBody: c.rawBody }
          : { body: c.body ?? (c.method === 'GET' || c.method === 'DELETE' ? undefined : { by: 1 }) }),
      });
      assert.equal(response.status, c.status, response.text);
      assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(response.json.code, c.code);
      assert.equal(response.json.status, c.status);
      assert.equal(typeof response.json.detail, 'string');
      assert.equal(response.json.requestId, response.headers.get('x-request-id'));
      // Exactly the problem its code's contract describes: no member missing, none undeclared.
      assert.deepEqual(problemOf(c.code).parse(response.json), response.json);
      if (c.allow) assert.equal(response.headers.get('allow'), c.allow);
    });
  }
});
