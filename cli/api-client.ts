// The typed BFF client: openapi-fetch over the types openapi-typescript generates from the OpenAPI
// document (contracts/generated/bff-api.ts, `npm run contracts`). Paths, parameters, headers, bodies
// and answers are checked by the compiler against the document the BFF serves. The CLI and the e2e
// tests use it; tests of malformed requests send raw HTTP on purpose (test/support/http.ts).
import createClient from 'openapi-fetch';
import type { paths } from '../contracts/generated/bff-api.ts';

export type BffClient = ReturnType<typeof createClient<paths>>;

/** A client of the BFF at `baseUrl`, signed in with `token` when given. */
export function bffClient(baseUrl: string, token?: string): BffClient {
  return createClient<paths>({ baseUrl, headers: token ? { authorization: `Bearer ${token}` } : {} });
}
