// Bearer-JWT authentication (jose), and authorization of each route by an OpenFGA check on the
// caller's identity (README "Tenancy and authorization"). Local dev verifies tokens against a JWKS
// file the CLI generated; production against a JWKS URL.
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { PLATFORM_ADMIN, type RouteAccess } from '../contracts/roles.ts';
import {
  counterObject,
  PLATFORM_OBJECT,
  structuralTuples,
  tenantObject,
  userObject,
  type Authz,
} from '../runtime/authz.ts';
import { isPlainText, TEXT_RULE } from '../contracts/text.ts';
import { HttpProblem } from './problem.ts';

/** Who is calling: from a verified token. What they may do is OpenFGA's to say, not the token's. */
export interface Principal {
  userId: string;
  /** Platform-wide roles (`platform-admin`); tenant roles are relation tuples, never claims. */
  roles: string[];
}

const claims = z.object({
  sub: z.string().min(1),
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
    if (!parsed.success) throw new HttpProblem('UNAUTHENTICATED', 'token lacks a valid sub or roles claim');
    // Signed, but carrying text the services cannot store (the sub becomes an actor and an owner).
    const unstorable = [['sub', parsed.data.sub], ...parsed.data.roles.map((role) => ['roles', role] as const)].find(
      ([, value]) => !isPlainText(value) || value.length > 255,
    );
    if (unstorable) {
      throw new HttpProblem(
        'VALIDATION_FAILED',
        `the token's ${unstorable[0]} claim ${TEXT_RULE}, and be at most 255 characters`,
        {
          errors: [{ path: `token.${unstorable[0]}`, message: TEXT_RULE }],
        },
      );
    }
    const principal: Principal = { userId: parsed.data.sub, roles: parsed.data.roles };
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

/**
 * Lets the call through when OpenFGA says the caller's `sub` has the route's relation on the object
 * its path names. The platform-admin role of a token enters as a contextual tuple; so do the tuples
 * every tenant and counter has (belongs to the platform, to its tenant). Denied: a caller who may
 * read the tenant gets 403; anyone else gets the 404 of a tenant that does not exist.
 */
export async function authorize(
  authz: Authz,
  principal: Principal,
  access: RouteAccess,
  params: { tenantId?: string; counterId?: string },
): Promise<void> {
  if (access.object === 'none') return;
  const user = userObject(principal.userId);
  const admin = principal.roles.includes(PLATFORM_ADMIN) ? [{ user, relation: 'admin', object: PLATFORM_OBJECT }] : [];
  if (access.object === 'platform') {
    if (await authz.check({ user, relation: access.relation, object: PLATFORM_OBJECT, contextualTuples: admin }))
      return;
    throw new HttpProblem('FORBIDDEN', `this needs the ${PLATFORM_ADMIN} role`);
  }
  const tenantId = params.tenantId!;
  const tenant = tenantObject(tenantId);
  const check = (relation: string, object: string, counterId?: string) =>
    authz.check({ user, relation, object, contextualTuples: [...structuralTuples(tenantId, counterId), ...admin] });
  const allowed =
    access.object === 'counter'
      ? await check(access.relation, counterObject(tenantId, params.counterId!), params.counterId)
      : await check(access.relation, tenant);
  if (allowed) return;
  if (access.relation !== 'can_read' && (await check('can_read', tenant))) {
    throw new HttpProblem(
      'FORBIDDEN',
      `your role in tenant ${tenantId} does not allow this (it needs ${access.relation} on the ${access.object})`,
    );
  }
  throw new HttpProblem('NOT_FOUND', `no tenant ${tenantId}`);
}
