// The isolation matrix (issue 16): seven principals × every route of the API, on the real BFF,
// saga worker, relay and projector, with access decided by OpenFGA. Tenants are created through
// POST /v1/tenants and members added through POST /v1/tenants/{id}/members — the real flows that
// write the tuples. Every cell's status and code is asserted, and the README's matrix is this table.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { HTTP_ROUTES } from '../contracts/http-api.ts';
import type { Running } from '../runtime/deployable.ts';
import { devToken, freePort, startTestBff, startTestSagaWorker, type TestBff } from '../test/support/bff.ts';
import { createMigratedDatabase, type FreshDatabase } from '../test/support/database.ts';
import { testStack } from '../test/support/env.ts';
import { call, type CallResult } from '../test/support/http.ts';
import { converged, createPipeline, type Pipeline } from '../test/support/pipeline.ts';
import { decodeStream } from '../test/support/asyncapi-consumer.ts';
import { createDatabasePool } from '../services/kernel/database.ts';
import { sql } from 'slonik';
import { z } from 'zod';
import { repoRoot, until } from '../test/support/processes.ts';

const PRINCIPALS = ['platformAdmin', 'owner', 'admin', 'member', 'viewer', 'otherTenant', 'noTenant'] as const;
type Principal = (typeof PRINCIPALS)[number];
const LABELS: Record<Principal, string> = {
  platformAdmin: 'platform admin',
  owner: 'owner',
  admin: 'admin',
  member: 'member',
  viewer: 'viewer',
  otherTenant: 'user of another tenant',
  noTenant: 'user with no tenant',
};

type Cell = [status: number, code?: string];
const ok = (status: number): Cell => [status];
const FORBIDDEN: Cell = [403, 'FORBIDDEN'];
const NOT_FOUND: Cell = [404, 'NOT_FOUND'];
const row = (cells: Cell[]): Record<Principal, Cell> =>
  Object.fromEntries(PRINCIPALS.map((p, i) => [p, cells[i]!])) as Record<Principal, Cell>;

/** Expected answers, by route and principal (the columns in PRINCIPALS order). Roles are in the target tenant. */
const MATRIX: Record<string, Record<Principal, Cell>> = {
  getCounter: row([ok(200), ok(200), ok(200), ok(200), ok(200), NOT_FOUND, NOT_FOUND]),
  incrementCounter: row([FORBIDDEN, ok(200), ok(200), ok(200), FORBIDDEN, NOT_FOUND, NOT_FOUND]),
  decrementCounter: row([FORBIDDEN, ok(200), ok(200), ok(200), FORBIDDEN, NOT_FOUND, NOT_FOUND]),
  resetCounter: row([FORBIDDEN, ok(200), ok(200), ok(200), FORBIDDEN, NOT_FOUND, NOT_FOUND]),
  rebuildProjection: row([ok(202), FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN]),
  createTenant: row([ok(202), ok(202), ok(202), ok(202), ok(202), ok(202), ok(202)]),
  getTenant: row([ok(200), ok(200), ok(200), ok(200), ok(200), NOT_FOUND, NOT_FOUND]),
  getOnboarding: row([ok(200), ok(200), ok(200), ok(200), ok(200), NOT_FOUND, NOT_FOUND]),
  approveOnboarding: row([ok(202), FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND, NOT_FOUND]),
  deleteTenant: row([ok(202), ok(202), FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND, NOT_FOUND]),
  addMember: row([FORBIDDEN, ok(200), ok(200), FORBIDDEN, FORBIDDEN, NOT_FOUND, NOT_FOUND]),
  removeMember: row([FORBIDDEN, ok(200), ok(200), FORBIDDEN, FORBIDDEN, NOT_FOUND, NOT_FOUND]),
};

/** The matrix as the README shows it. */
export function matrixMarkdown(): string {
  const cell = ([status, code]: Cell) => (code ? `${status} ${code}` : String(status));
  const lines = [
    `| route | ${PRINCIPALS.map((p) => LABELS[p]).join(' | ')} |`,
    `| --- | ${PRINCIPALS.map(() => '---').join(' | ')} |`,
    ...HTTP_ROUTES.map(
      (r) =>
        `| \`${r.method.toUpperCase()} ${r.path.replace('/v1', '')}\` | ${PRINCIPALS.map((p) => cell(MATRIX[r.operationId]![p])).join(' | ')} |`,
    ),
  ];
  return lines.join('\n');
}

describe('isolation matrix: 7 principals × every route (OpenFGA decides)', function () {
  this.timeout(600_000);
  const run = randomUUID().slice(0, 6);
  const users = Object.fromEntries(PRINCIPALS.map((p) => [p, `${p}-${run}`])) as Record<Principal, string>;
  const tokens = {} as Record<Principal, string>;
  let db: FreshDatabase;
  let pipeline: Pipeline;
  let bff: TestBff;
  let worker: Running;
  /** The tenant every non-destructive cell targets, with owner, admin, member and viewer. */
  let tenant: string;
  /** Fresh tenants for the two deletes that are allowed, and an enterprise one awaiting approval. */
  const deleteTarget = {} as Record<'owner' | 'platformAdmin', string>;
  let awaitingApproval: string;

  const send = (who: Principal, method: string, path: string, body?: unknown, key = randomUUID()) =>
    call(bff.base, method, path, {
      token: tokens[who],
      ...(method === 'POST' ? { headers: { 'idempotency-key': key } } : {}),
      ...(body !== undefined ? { body } : {}),
    });
  const expectStatus = (response: CallResult, status: number) => assert.equal(response.status, status, response.text);

  /** POST /v1/tenants as `who`, then the onboarding until it completes (or waits for approval). */
  const onboard = async (who: Principal, plan: 'pro' | 'enterprise' = 'pro'): Promise<string> => {
    const slug = `m-${randomUUID().slice(0, 12)}`;
    const created = await send(who, 'POST', '/v1/tenants', { slug, name: `Matrix ${slug}`, plan });
    expectStatus(created, 202);
    const location = created.headers.get('location')!;
    const awaited = plan === 'enterprise' ? 'waiting-approval' : 'completed';
    await until(`onboarding of ${slug}`, async () => {
      const status = await send(who, 'GET', location);
      expectStatus(status, 200);
      if (status.json.sagaStatus === 'failed' || status.json.sagaStatus === 'compensated')
        throw new Error(`onboarding failed: ${status.text}`);
      return status.json.sagaStatus === awaited;
    });
    return created.json.tenantId as string;
  };
  const withMembers = async (tenantId: string) => {
    for (const role of ['admin', 'member', 'viewer'] as const) {
      expectStatus(await send('owner', 'POST', `/v1/tenants/${tenantId}/members`, { userId: users[role], role }), 200);
    }
  };

  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'authz');
    pipeline = await createPipeline(db.url);
    await pipeline.start();
    worker = await startTestSagaWorker(db.url);
    bff = await startTestBff(db.url);
    for (const p of PRINCIPALS)
      tokens[p] = await devToken({ user: users[p], roles: p === 'platformAdmin' ? ['platform-admin'] : [] });

    tenant = await onboard('owner');
    await withMembers(tenant);
    deleteTarget.owner = await onboard('owner');
    deleteTarget.platformAdmin = await onboard('owner');
    awaitingApproval = await onboard('owner', 'enterprise');
    await withMembers(awaitingApproval);
    await onboard('otherTenant');
    // A counter with room to decrement, and the tenant in the read model, before the cells run.
    expectStatus(await send('owner', 'POST', `/v1/tenants/${tenant}/counters/big/increment`, { by: 100 }), 200);
    await until('the tenant in the read model', async () => {
      return (await send('owner', 'GET', `/v1/tenants/${tenant}`)).status === 200;
    });
  });
  after(async () => {
    await bff?.stop();
    await worker?.stop();
    await pipeline?.stop();
    await db?.drop();
  });

  /** The request each route gets in a cell: the shared tenant unless the cell would destroy it. */
  const REQUESTS: Record<string, (who: Principal) => [method: string, path: string, body?: unknown]> = {
    getCounter: () => ['GET', `/v1/tenants/${tenant}/counters/big`],
    incrementCounter: () => ['POST', `/v1/tenants/${tenant}/counters/big/increment`, { by: 1 }],
    decrementCounter: () => ['POST', `/v1/tenants/${tenant}/counters/big/decrement`, { by: 1 }],
    resetCounter: () => ['POST', `/v1/tenants/${tenant}/counters/other/reset`, {}],
    rebuildProjection: () => ['POST', '/v1/admin/projections/counters/rebuild'],
    createTenant: (who) => ['POST', '/v1/tenants', { slug: `c-${randomUUID().slice(0, 12)}`, name: who, plan: 'free' }],
    getTenant: () => ['GET', `/v1/tenants/${tenant}`],
    getOnboarding: () => ['GET', `/v1/tenants/${tenant}/onboarding`],
    approveOnboarding: () => ['POST', `/v1/tenants/${awaitingApproval}/onboarding/approve`],
    deleteTenant: (who) => [
      'DELETE',
      `/v1/tenants/${who === 'owner' || who === 'platformAdmin' ? deleteTarget[who] : tenant}`,
    ],
    addMember: () => ['POST', `/v1/tenants/${tenant}/members`, { userId: `guest-${run}`, role: 'viewer' }],
    removeMember: () => ['DELETE', `/v1/tenants/${tenant}/members/guest-${run}`],
  };

  it('covers every route of the API', () => {
    assert.deepEqual(Object.keys(MATRIX).sort(), HTTP_ROUTES.map((r) => r.operationId).sort());
    assert.deepEqual(Object.keys(REQUESTS).sort(), Object.keys(MATRIX).sort());
  });

  for (const route of HTTP_ROUTES) {
    it(`${route.operationId}: each principal gets its documented answer`, async () => {
      const wrong: string[] = [];
      // Denied principals first: an allowed destructive call (approve) must not change what they meet.
      const order = [...PRINCIPALS].sort((a, b) => MATRIX[route.operationId]![b][0] - MATRIX[route.operationId]![a][0]);
      for (const who of order) {
        const [method, path, body] = REQUESTS[route.operationId]!(who);
        const response = await send(who, method, path, body);
        const [status, code] = MATRIX[route.operationId]![who];
        const got = `${response.status} ${typeof response.json?.code === 'string' ? response.json.code : ''}`.trim();
        if (response.status !== status || (code !== undefined && response.json?.code !== code))
          wrong.push(
            `${LABELS[who]}: ${got}, expected ${status}${code ? ` ${code}` : ''} (${response.text.slice(0, 160)})`,
          );
        // The creator follows the onboarding through the Location it was given, with its own token, at once.
        if (route.operationId === 'createTenant' && response.status === 202) {
          const followed = await send(who, 'GET', response.headers.get('location')!);
          if (followed.status !== 200) wrong.push(`${LABELS[who]}: Location answered ${followed.status}`);
        }
      }
      assert.deepEqual(wrong, []);
    });
  }

  it('a caller with no relation gets the same answer whether or not the tenant exists, on every tenant route', async () => {
    const ghost = `ghost-${run}`;
    for (const route of HTTP_ROUTES.filter((r) => r.path.includes('{tenantId}'))) {
      const [method, path, body] = REQUESTS[route.operationId]!('noTenant');
      const existing = await send('noTenant', method, path, body);
      const target = path.split('/')[3]!;
      const missing = await send('noTenant', method, path.replace(target, ghost), body);
      assert.deepEqual(
        [missing.status, missing.json.code, String(missing.json.detail).replace(ghost, '<id>')],
        [existing.status, existing.json.code, String(existing.json.detail).replace(target, '<id>')],
        route.operationId,
      );
    }
  });

  it('a member removed by the membership workflow loses access when the DELETE answers', async () => {
    const user = `leaver-${run}`;
    const token = await devToken({ user });
    const read = () => call(bff.base, 'GET', `/v1/tenants/${tenant}/counters/big`, { token });
    expectStatus(await read(), 404);
    const added = await send('owner', 'POST', `/v1/tenants/${tenant}/members`, { userId: user, role: 'member' });
    expectStatus(added, 200);
    assert.deepEqual(
      { ...added.json, workflowId: undefined },
      { tenantId: tenant, userId: user, role: 'member', workflowId: undefined },
    );
    expectStatus(await read(), 200);
    const removed = await send('admin', 'DELETE', `/v1/tenants/${tenant}/members/${user}`);
    expectStatus(removed, 200);
    assert.equal(removed.json.role, null);
    expectStatus(await read(), 404);
    const again = await send('admin', 'DELETE', `/v1/tenants/${tenant}/members/${user}`);
    expectStatus(again, 200);
    const owner = await send('admin', 'DELETE', `/v1/tenants/${tenant}/members/${users.owner}`);
    assert.deepEqual([owner.status, owner.json.code], [409, 'MEMBER_IS_OWNER']);
  });

  it('the creator cancels an onboarding awaiting approval (it compensates); a DELETE of the compensated tenant is 409', async () => {
    const pending = await onboard('owner', 'enterprise');
    const cancelled = await send('owner', 'DELETE', `/v1/tenants/${pending}`);
    expectStatus(cancelled, 202);
    assert.equal(cancelled.json.status, 'cancelling');
    await until('the compensation', async () => {
      return (await send('owner', 'GET', `/v1/tenants/${pending}/onboarding`)).json.sagaStatus === 'compensated';
    });
    const again = await send('owner', 'DELETE', `/v1/tenants/${pending}`);
    assert.deepEqual([again.status, again.json.code], [409, 'TENANT_STATE_CONFLICT'], again.text);
    const write = await send('owner', 'POST', `/v1/tenants/${pending}/counters/c1/increment`, { by: 1 });
    assert.deepEqual([write.status, write.json.code], [403, 'FORBIDDEN'], 'the owner tuple went with the compensation');
  });

  it('an OpenFGA that cannot be reached is 503 UNAVAILABLE with Retry-After, never a 500', async () => {
    const cut = await startTestBff(db.url, undefined, { OPENFGA_API_URL: `http://127.0.0.1:${await freePort()}` });
    try {
      const response = await call(cut.base, 'GET', `/v1/tenants/${tenant}/counters/big`, { token: tokens.viewer });
      assert.deepEqual([response.status, response.json.code], [503, 'UNAVAILABLE'], response.text);
      assert.ok(Number(response.headers.get('retry-after')) > 0, 'Retry-After says when to try again');
    } finally {
      await cut.stop();
    }
  });

  it('a consumer written only against /asyncapi.json decodes every event this run emitted, of every type', async () => {
    const pool = await createDatabasePool(db.url, { maximumPoolSize: 1 });
    try {
      await converged(pool, 60_000);
      const outbox = async () =>
        pool.oneFirst(sql.type(z.object({ n: z.coerce.number() }))`select count(*) as n from event_outbox`);
      await until('the relay to publish every event', async () => {
        return (await pipeline.jsm.streams.info(pipeline.stream)).state.messages === (await outbox());
      });
      const document = (await call(bff.base, 'GET', '/asyncapi.json')).json;
      const decoded = await decodeStream(document, pipeline.jsm, pipeline.stream);
      assert.deepEqual(decoded.failures, []);
      const emitted = await pool.any(sql.type(z.object({ type: z.string(), n: z.coerce.number() }))`
        select event_type as type, count(*) as n from event_outbox group by 1 order by 1`);
      assert.deepEqual(
        [...decoded.byType].sort(([a], [b]) => a.localeCompare(b)).map(([type, n]) => ({ type, n })),
        emitted,
      );
      assert.ok(emitted.length >= 15, `${emitted.length} event types in this run`);
    } finally {
      await pool.end();
    }
  });

  it('the README shows this matrix', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    assert.ok(readme.includes(matrixMarkdown()), `README.md lacks the matrix:\n${matrixMarkdown()}`);
  });
});
