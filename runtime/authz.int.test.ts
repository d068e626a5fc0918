// The OpenFGA client every deployable shares, on the test stack's real server: writes tolerate
// "already there" and deletes "already gone"; an allowed check is remembered for AUTHZ_CACHE_MS and a
// denial never is; `forget` drops a user's remembered decisions; odd subs become valid object ids.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'mocha';
import { testStack } from '../test/support/env.ts';
import { CALL_TIMEOUT_MS, createAuthz, structuralTuples, tenantObject, userObject } from './authz.ts';
import { unavailableDependency } from './failures.ts';

const authzWithCache = (ms: number, url = testStack().OPENFGA_API_URL) => {
  const stack = testStack();
  return createAuthz({
    OPENFGA_API_URL: url,
    OPENFGA_STORE_ID: stack.OPENFGA_STORE_ID,
    ...(stack.OPENFGA_API_TOKEN ? { OPENFGA_API_TOKEN: stack.OPENFGA_API_TOKEN } : {}),
    AUTHZ_CACHE_MS: ms,
  });
};

describe('runtime/authz.ts on the real OpenFGA server', function () {
  this.timeout(30_000);
  const tenant = tenantObject(`authz-${randomUUID().slice(0, 8)}`);

  it('grants and revokes idempotently: a second grant and a second revoke are no errors', async () => {
    const authz = authzWithCache(0);
    const tuple = { user: userObject('ann'), relation: 'member', object: tenant };
    await authz.grant([tuple]);
    await authz.grant([tuple]);
    assert.deepEqual(await authz.tuplesOn(tenant), [tuple]);
    await authz.revoke([tuple]);
    await authz.revoke([tuple]);
    assert.deepEqual(await authz.tuplesOn(tenant), []);
  });

  it('remembers an allow for AUTHZ_CACHE_MS, never a denial; forget drops the user’s allows', async () => {
    const cached = authzWithCache(60_000);
    const writer = authzWithCache(0);
    const user = userObject(`bob-${randomUUID().slice(0, 6)}`);
    const question = {
      user,
      relation: 'can_read',
      object: tenant,
      contextualTuples: structuralTuples(tenant.slice('tenant:'.length)),
    };
    assert.equal(await cached.check(question), false);
    await writer.grant([{ user, relation: 'viewer', object: tenant }]);
    assert.equal(await cached.check(question), true, 'a denial was not remembered: the grant counts at once');
    await writer.revoke([{ user, relation: 'viewer', object: tenant }]);
    assert.equal(await cached.check(question), true, 'the allow is remembered (the documented staleness)');
    assert.equal(await writer.check(question), false, 'the server already says no');
    cached.forget(user);
    assert.equal(await cached.check(question), false, 'forgotten: asked again');
  });

  it('a server that accepts but never answers is "openfga unavailable" after the call timeout, not a hang', async () => {
    const silent = createServer(() => {}); // takes the connection, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const error = await authzWithCache(0, `http://127.0.0.1:${port}`)
        .check({ user: userObject('x'), relation: 'viewer', object: tenant })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.match(String(error), new RegExp(`timeout of ${CALL_TIMEOUT_MS}ms exceeded`));
      assert.equal(unavailableDependency(error), 'openfga');
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('turns any sub into a valid OpenFGA user id: spaces, #, :, and 255 characters', async () => {
    const authz = authzWithCache(0);
    for (const sub of ['a b#c:d', 'ünïcødé@example.com', 'x'.repeat(255)]) {
      const user = userObject(sub);
      await authz.grant([{ user, relation: 'viewer', object: tenant }]);
      assert.equal(await authz.check({ user, relation: 'viewer', object: tenant }), true, sub);
      await authz.revoke([{ user, relation: 'viewer', object: tenant }]);
    }
    assert.notEqual(userObject('a b'), userObject('a%20b'), 'the encoding keeps distinct subs distinct');
  });
});
