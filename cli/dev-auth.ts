// Local-dev signing key and tokens. The key pair (ES256) lives in the state folder's secrets/;
// the BFF of the local stack verifies with its public JWKS. Production uses a real issuer's JWKS.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { authEnv } from '../runtime/config.ts';

const defaults = authEnv.parse({});
export const DEV_ISSUER = defaults.AUTH_ISSUER;
export const DEV_AUDIENCE = defaults.AUTH_AUDIENCE;
const KID = 'local-dev-1';

export interface DevKeyFiles {
  privateJwk: string;
  jwks: string;
}

export function devKeyFiles(secretsDir: string): DevKeyFiles {
  return { privateJwk: join(secretsDir, 'jwt-dev-private.jwk.json'), jwks: join(secretsDir, 'jwt-dev-jwks.json') };
}

/** Creates the dev key pair once; later calls keep it (tokens stay valid across restarts). */
export async function ensureDevSigningKey(secretsDir: string): Promise<DevKeyFiles> {
  const files = devKeyFiles(secretsDir);
  if (existsSync(files.privateJwk) && existsSync(files.jwks)) return files;
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid: KID, alg: 'ES256' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid: KID, alg: 'ES256', use: 'sig' };
  writeFileSync(files.privateJwk, `${JSON.stringify(privateJwk)}\n`, { mode: 0o600 });
  writeFileSync(files.jwks, `${JSON.stringify({ keys: [publicJwk] })}\n`);
  return files;
}

export interface TokenRequest {
  user: string;
  roles: string[];
  /** jose time span, e.g. "1h", "30d". */
  expiresIn: string;
}

export async function mintDevToken(files: DevKeyFiles, request: TokenRequest): Promise<string> {
  const jwk = JSON.parse(readFileSync(files.privateJwk, 'utf8')) as JWK;
  const key = await importJWK(jwk, 'ES256');
  return new SignJWT({ roles: request.roles })
    .setProtectedHeader({ alg: 'ES256', kid: KID })
    .setSubject(request.user)
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(request.expiresIn)
    .sign(key);
}
