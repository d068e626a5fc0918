// Verified tokens are remembered, but never past their expiry: given a token that expires in a
// second, when it is verified (and cached) and used again after it expired, then it is refused.
// A token must carry exp and sub, and may not be valid for longer than the server accepts.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, it } from 'mocha';
import { createTokenVerifier } from './auth.ts';
import { HttpProblem } from './problem.ts';

async function signer() {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwksFile = join(mkdtempSync(join(tmpdir(), 'jwks-')), 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }));
  const verify = createTokenVerifier({ issuer: 'urn:test', audience: 'bff', jwksFile, maxLifetimeSeconds: 3600 });
  const token = (claims: { sub?: string; expiresInSeconds?: number }) => {
    const jwt = new SignJWT({ roles: ['member'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('urn:test')
      .setAudience('bff');
    if (claims.sub) jwt.setSubject(claims.sub);
    if (claims.expiresInSeconds) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + claims.expiresInSeconds);
    return jwt.sign(privateKey);
  };
  return { verify, token };
}

describe('token verification', () => {
  it('answers a repeated token from its cache, and refuses it once it has expired', async function () {
    this.timeout(10_000);
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwksFile = join(mkdtempSync(join(tmpdir(), 'jwks-')), 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }));
    const settings = { issuer: 'urn:test', audience: 'bff', jwksFile, maxLifetimeSeconds: 3600 };
    const verify = createTokenVerifier(settings);
    const token = await new SignJWT({ roles: ['member'], tenant: 't1' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setSubject('alice')
      .setIssuer('urn:test')
      .setAudience('bff')
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .sign(privateKey);

    const first = await verify(token);
    assert.deepEqual(first, { userId: 'alice', roles: ['member'] }, 'a tenant claim grants nothing: it is not read');
    assert.equal(await verify(token), first, 'the second verification is the cached principal');
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await assert.rejects(verify(token), /"exp" claim timestamp check failed/);
  });

  it('refuses a token without exp or without sub, and one valid for longer than the configured maximum', async () => {
    const { verify, token } = await signer();
    assert.equal((await verify(await token({ sub: 'alice', expiresInSeconds: 3500 }))).userId, 'alice');
    await assert.rejects(verify(await token({ sub: 'alice' })), /missing required "exp" claim/);
    await assert.rejects(verify(await token({ expiresInSeconds: 600 })), /missing required "sub" claim/);
    await assert.rejects(
      verify(await token({ sub: 'alice', expiresInSeconds: 7200 })),
      (error: unknown) =>
        error instanceof HttpProblem && /valid for longer than this server accepts \(3600 s\)/.test(error.message),
    );
  });
});
