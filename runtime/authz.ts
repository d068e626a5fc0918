// Authorization by relation tuples (issue 16; README "Tenancy and authorization"): the OpenFGA client
// every deployable shares. The BFF asks `check` about the caller's own identity; the saga worker's
// activities write and delete tuples. Names of objects are made here and nowhere else.
import { createHash } from 'node:crypto';
import {
  ClientWriteRequestOnDuplicateWrites,
  ClientWriteRequestOnMissingDeletes,
  CredentialsMethod,
  OpenFgaClient,
} from '@openfga/sdk';
import { z } from 'zod';

export const authzEnv = z.object({
  OPENFGA_API_URL: z.url({ protocol: /^https?$/, error: 'is required (http://host:port of the OpenFGA HTTP API)' }),
  OPENFGA_STORE_ID: z.string({ error: 'is required (the id of the OpenFGA store)' }).min(1),
  /** The preshared key the server expects (`Authorization: Bearer <key>`); none when it runs without authentication. */
  OPENFGA_API_TOKEN: z.string().min(1).optional(),
  /**
   * How long an allowed check is remembered, in ms (0: never). A relation revoked on the server may
   * still be used through this BFF for that long; a denial is never remembered, so a grant takes
   * effect at once.
   */
  AUTHZ_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
});
export type AuthzConfig = z.infer<typeof authzEnv>;

export interface Tuple {
  user: string;
  relation: string;
  object: string;
}

/** The one platform: its `admin` relation comes from a token's platform-admin role (a contextual tuple). */
export const PLATFORM_OBJECT = 'platform:default';

/**
 * `user:<sub>`. OpenFGA ids may not hold whitespace, `#` or `:`, and are at most 256 characters, so a
 * sub is percent-encoded, and a very long one is replaced by its SHA-256.
 */
export function userObject(sub: string): string {
  const encoded = encodeURIComponent(sub);
  return `user:${encoded.length <= 200 ? encoded : `sha256.${createHash('sha256').update(sub).digest('hex')}`}`;
}

export const tenantObject = (tenantId: string) => `tenant:${tenantId}`;
export const counterObject = (tenantId: string, counterId: string) => `counter:${tenantId}/${counterId}`;

/** The relations a membership can hold (owner is granted by onboarding only). */
export const MEMBER_RELATIONS = ['owner', 'admin', 'member', 'viewer'] as const;

/** Tuples that hold for every tenant and counter, so they are sent with each check instead of stored. */
export function structuralTuples(tenantId: string, counterId?: string): Tuple[] {
  return [
    { user: PLATFORM_OBJECT, relation: 'platform', object: tenantObject(tenantId) },
    ...(counterId === undefined
      ? []
      : [{ user: tenantObject(tenantId), relation: 'tenant', object: counterObject(tenantId, counterId) }]),
  ];
}

export interface CheckRequest extends Tuple {
  /** Tuples that hold for this check only (structural ones, the platform-admin role of a token). */
  contextualTuples?: Tuple[];
}

export interface Authz {
  check(request: CheckRequest): Promise<boolean>;
  /** Writes the tuples; one already there is fine. */
  grant(tuples: Tuple[]): Promise<void>;
  /** Deletes the tuples; one already gone is fine. */
  revoke(tuples: Tuple[]): Promise<void>;
  /** Every stored tuple on `object` (e.g. all memberships of a tenant). */
  tuplesOn(object: string): Promise<Tuple[]>;
  /** Forgets every remembered allow of `user` (this process just changed their relations). */
  forget(user: string): void;
}

/** How long one call to OpenFGA may take before it counts as the server being unavailable. */
export const CALL_TIMEOUT_MS = 2_000;

/** The most allows remembered at once; the oldest goes first. */
const CACHE_ENTRIES = 10_000;

export function createAuthz(config: AuthzConfig): Authz {
  const client = new OpenFgaClient({
    apiUrl: config.OPENFGA_API_URL,
    storeId: config.OPENFGA_STORE_ID,
    ...(config.OPENFGA_API_TOKEN
      ? { credentials: { method: CredentialsMethod.ApiToken, config: { token: config.OPENFGA_API_TOKEN } } }
      : {}),
    // One quick retry of a 429/5xx; an outage is the caller's to wait out (503 in the BFF, a retried activity).
    retryParams: { maxRetry: 1, minWaitInMs: 50 },
    // A server that accepts but does not answer costs at most this per attempt (the SDK waits 10 s).
    baseOptions: { timeout: CALL_TIMEOUT_MS },
  });
  const allowed = new Map<string, number>();
  const keyOf = (r: CheckRequest) =>
    [
      r.user,
      r.relation,
      r.object,
      ...(r.contextualTuples ?? []).map((t) => `${t.user} ${t.relation} ${t.object}`),
    ].join('\n');

  return {
    async check(request) {
      const key = keyOf(request);
      const until = allowed.get(key);
      if (until !== undefined) {
        if (until > Date.now()) return true;
        allowed.delete(key);
      }
      const { allowed: answer } = await client.check({
        user: request.user,
        relation: request.relation,
        object: request.object,
        ...(request.contextualTuples?.length ? { contextualTuples: request.contextualTuples } : {}),
      });
      if (answer && config.AUTHZ_CACHE_MS > 0) {
        if (allowed.size >= CACHE_ENTRIES) allowed.delete(allowed.keys().next().value!);
        allowed.set(key, Date.now() + config.AUTHZ_CACHE_MS);
      }
      return answer === true;
    },
    async grant(tuples) {
      if (tuples.length === 0) return;
      await client.write(
        { writes: tuples },
        { conflict: { onDuplicateWrites: ClientWriteRequestOnDuplicateWrites.Ignore } },
      );
    },
    async revoke(tuples) {
      if (tuples.length === 0) return;
      await client.write(
        { deletes: tuples },
        { conflict: { onMissingDeletes: ClientWriteRequestOnMissingDeletes.Ignore } },
      );
    },
    async tuplesOn(object) {
      const found: Tuple[] = [];
      let continuationToken: string | undefined;
      do {
        const page = await client.read(
          { object },
          { pageSize: 100, ...(continuationToken ? { continuationToken } : {}) },
        );
        found.push(...page.tuples.map(({ key }) => ({ user: key.user, relation: key.relation, object: key.object })));
        continuationToken = page.continuation_token || undefined;
      } while (continuationToken);
      return found;
    },
    forget(user) {
      for (const key of allowed.keys()) if (key.startsWith(`${user}\n`)) allowed.delete(key);
    },
  };
}
