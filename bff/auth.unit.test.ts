// Verified tokens are remembered, but never past their expiry: given a token that expires in a
// second, when it is verified (and cached) and used again after it expired, then it is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, it } from 'mocha';
import { createTokenVerifier } from './auth.ts';

describe('token verification', () => {
  it('answers a repeated token from its cache, and refuses it once it has expired', async function () {
    this.timeout(10_000);
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwksFile = join(mkdtempSync(join(tmpdir(), 'jwks-')), 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }));
    const settings = { issuer: 'urn:test', audience: 'bff', jwksFile };
    const verify = createTokenVerifier(settings);
    const token = await new SignJWT({ roles: ['member'], tenant: 't1' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setSubject('alice')
      .setIssuer('urn:test')
      .setAudience('bff')
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .sign(privateKey);

    const first = await verify(token);
    assert.deepEqual(first, { userId: 'alice', roles: ['member'], tenantId: 't1' });
    assert.equal(await verify(token), first, 'the second verification is the cached principal');
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await assert.rejects(verify(token), /"exp" claim timestamp check failed/);
  });
});
