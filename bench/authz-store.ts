// The bench's own OpenFGA store, as it has its own database, namespace and stream: created for a run,
// deleted at its end. Its authorization model is the one the stack's store serves (`npm run up` and
// the test stack write platform/authz/model.fga there); the bench copies it rather than reading the
// DSL, because bench code may not import platform/ (agent/codemap.yml).
import { CredentialsMethod, OpenFgaClient } from '@openfga/sdk';
import { OPENFGA_STORE } from '../cli/stack/openfga.ts';
import type { AuthzConfig } from '../runtime/authz.ts';

/** The stack's authorization server; its store is found by name when no id is given. */
export interface OpenFgaServer {
  url: string;
  token?: string | undefined;
  storeId?: string | undefined;
}

export interface BenchStore {
  /** How to reach the bench's store, without a decision cache (every check asks the server). */
  config: AuthzConfig;
  drop(): Promise<void>;
}

export async function createBenchStore(server: OpenFgaServer, name: string): Promise<BenchStore> {
  const client = (storeId?: string) =>
    new OpenFgaClient({
      apiUrl: server.url,
      ...(storeId ? { storeId } : {}),
      ...(server.token ? { credentials: { method: CredentialsMethod.ApiToken, config: { token: server.token } } } : {}),
    });
  const stackStore = server.storeId ?? (await client().listStores({ name: OPENFGA_STORE })).stores[0]?.id;
  if (!stackStore) throw new Error(`no OpenFGA store ${OPENFGA_STORE} on ${server.url}: run \`npm run up\``);
  const { authorization_model: model } = await client(stackStore).readLatestAuthorizationModel();
  if (!model) throw new Error(`the OpenFGA store ${stackStore} has no authorization model: run \`npm run up\``);
  const { id } = await client().createStore({ name });
  const store = client(id);
  await store.writeAuthorizationModel({
    schema_version: model.schema_version,
    type_definitions: model.type_definitions,
    ...(model.conditions ? { conditions: model.conditions } : {}),
  });
  return {
    config: {
      OPENFGA_API_URL: server.url,
      OPENFGA_STORE_ID: id,
      ...(server.token ? { OPENFGA_API_TOKEN: server.token } : {}),
      AUTHZ_CACHE_MS: 0,
    },
    async drop() {
      await store.deleteStore();
    },
  };
}
