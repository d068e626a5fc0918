// Bearer-JWT authentication (jose) and the tenant/role rules (docs/architecture.md, "HTTP surface"). Local dev verifies
// against a JWKS file the CLI generated; production against a JWKS URL.
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { TENANT_ROLES, type TenantRole } from '../contracts/roles.ts';
import { isPlainText, TEXT_RULE } from '../contracts/text.ts';
import { HttpProblem } from './problem.ts';

/** Who is calling: from a verified token. */
export interface Principal {
  userId: string;
  /** The tenant the token is for; absent on a plain user token. */
  tenantId?: string;
  roles: string[];
}

const claims = z.object({
  sub: z.string().min(1),
  tenant: z.string().min(1).optional(),
  roles: z.array(z.string()).default([]),
});

export interface AuthSettings {
  issuer: string;
  audience: string;
  /** A token whose exp lies further ahead than this is refused (a token without exp always is). */
  maxLifetimeSeconds: number;
  jwksUrl?: string;
  jwksFile?: string;
}

export type TokenVerifier = (token: string) => Promise<Principal>;

export function createTokenVerifier(settings: AuthSettings): TokenVerifier {
  let keys: JWTVerifyGetKey;
  if (settings.jwksUrl) keys = createRemoteJWKSet(new URL(settings.jwksUrl));
  else if (settings.jwksFile)
    keys = createLocalJWKSet(
      JSON.parse(readFileSync(settings.jwksFile, 'utf8')) as Parameters<typeof createLocalJWKSet>[0],
    );
  else throw new Error('auth needs a JWKS URL or file');
  // A verified token is remembered until it expires (at most VERIFIED_CACHE_MS), so a client that
  // sends the same token on every request pays one signature check, not one per request. Bounded:
  // the oldest entry goes first. A key removed from the JWKS still admits tokens verified before,
  // until their cache entry ends.
  const verified = new Map<string, { principal: Principal; until: number }>();
  return async (token) => {
    const now = Date.now();
    const hit = verified.get(token);
    if (hit && hit.until > now) return hit.principal;
    if (hit) verified.delete(token);
    const { payload } = await jwtVerify(token, keys, {
      issuer: settings.issuer,
      audience: settings.audience,
      requiredClaims: ['exp', 'sub'],
    });
    if (payload.exp! - now / 1000 > settings.maxLifetimeSeconds)
      throw new HttpProblem(
        'UNAUTHENTICATED',
        `the token is valid for longer than this server accepts (${settings.maxLifetimeSeconds} s); ask for a shorter one`,
      );
    const parsed = claims.safeParse(payload);
    if (!parsed.success) throw new HttpProblem('UNAUTHENTICATED', 'token lacks a valid sub, tenant or roles claim');
    // Signed, but carrying text the services cannot store (the sub becomes an actor and an owner).
    const unstorable = [
      ['sub', parsed.data.sub],
      ['tenant', parsed.data.tenant ?? ''],
      ...parsed.data.roles.map((role) => ['roles', role] as const),
    ].find(([, value]) => !isPlainText(value) || value.length > 255);
    if (unstorable) {
      throw new HttpProblem(
        'VALIDATION_FAILED',
        `the token's ${unstorable[0]} claim ${TEXT_RULE}, and be at most 255 characters`,
        {
          errors: [{ path: `token.${unstorable[0]}`, message: TEXT_RULE }],
        },
      );
    }
    const principal: Principal = {
      userId: parsed.data.sub,
      roles: parsed.data.roles,
      ...(parsed.data.tenant ? { tenantId: parsed.data.tenant } : {}),
    };
    const until = Math.min(now + VERIFIED_CACHE_MS, payload.exp! * 1000);
    if (until > now) {
      if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
      verified.set(token, { principal, until });
    }
    return principal;
  };
}

/** How long, at most, and how many verified tokens are remembered. */
const VERIFIED_CACHE_MS = 5 * 60_000;
const VERIFIED_CACHE_SIZE = 10_000;

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/** Verifies `Authorization: Bearer <JWT>` and puts the principal on ctx.state; 401 otherwise. */
export function authMiddleware(verify: TokenVerifier): Middleware<{ principal: Principal }> {
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    if (!header)
      throw new HttpProblem(
        'UNAUTHENTICATED',
        'send Authorization: Bearer <token> (mint a dev token with `npm run token`)',
      );
    const token = BEARER.exec(header)?.[1];
    if (!token) throw new HttpProblem('UNAUTHENTICATED', 'the Authorization header must be "Bearer <JWT>"');
    try {
      ctx.state.principal = await verify(token);
    } catch (error) {
      if (error instanceof HttpProblem) throw error;
      const reason =
        error instanceof joseErrors.JWTExpired
          ? 'the token has expired'
          : error instanceof joseErrors.JWTClaimValidationFailed
            ? error.reason === 'missing'
              ? `the token has no ${error.claim} claim (every token must carry exp and sub)`
              : `the token's ${error.claim} claim is not accepted here`
            : 'the token is not valid';
      throw new HttpProblem('UNAUTHENTICATED', reason);
    }
    await next();
  };
}

/** The token must be for `tenantId` and carry at least `role` there; a foreign tenant is always 403. */
export function requireTenantRole(principal: Principal, tenantId: string, role: TenantRole): void {
  if (principal.tenantId !== tenantId) {
    throw new HttpProblem('FORBIDDEN', `this token is not for tenant ${tenantId}`);
  }
  const rank = (r: string) => TENANT_ROLES.indexOf(r as TenantRole);
  const best = Math.max(-1, ...principal.roles.map(rank));
  if (best < rank(role)) {
    throw new HttpProblem('FORBIDDEN', `this needs the ${role} role (or higher) in tenant ${tenantId}`);
  }
}
