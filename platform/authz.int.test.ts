// The authorization model's tests (platform/authz/model.fga.yaml, OpenFGA's test-file format) run
// against the real OpenFGA server of the test stack, in a store of their own: each check of the file
// is asked of the server and must answer as the file says.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CredentialsMethod, OpenFgaClient } from '@openfga/sdk';
import { after, before, describe, it } from 'mocha';
import { parse } from 'yaml';
import { z } from 'zod';
import { testStack } from '../test/support/env.ts';
import { AUTHZ_MODEL_FILE, authorizationModel } from './authz.ts';

const tuple = z.object({ user: z.string(), relation: z.string(), object: z.string() });
const testFile = z.object({
  name: z.string(),
  model_file: z.string(),
  tuples: z.array(tuple),
  tests: z.array(
    z.object({
      name: z.string(),
      check: z.array(z.object({ user: z.string(), object: z.string(), assertions: z.record(z.string(), z.boolean()) })),
    }),
  ),
});

const TESTS_FILE = join(dirname(AUTHZ_MODEL_FILE), 'model.fga.yaml');
const file = testFile.parse(parse(readFileSync(TESTS_FILE, 'utf8')));

describe(`authorization model: ${file.name} (on the real OpenFGA server)`, function () {
  this.timeout(60_000);
  let client: OpenFgaClient;

  before(async () => {
    assert.equal(join(dirname(TESTS_FILE), file.model_file), AUTHZ_MODEL_FILE, 'the tests are of our model');
    const { OPENFGA_API_URL, OPENFGA_API_TOKEN } = testStack();
    const credentials = OPENFGA_API_TOKEN
      ? { method: CredentialsMethod.ApiToken as const, config: { token: OPENFGA_API_TOKEN } }
      : undefined;
    const admin = new OpenFgaClient({ apiUrl: OPENFGA_API_URL, ...(credentials ? { credentials } : {}) });
    const store = await admin.createStore({ name: `model-test-${randomUUID().slice(0, 8)}` });
    client = new OpenFgaClient({ apiUrl: OPENFGA_API_URL, storeId: store.id, ...(credentials ? { credentials } : {}) });
    const model = await client.writeAuthorizationModel(authorizationModel() as never);
    client.authorizationModelId = model.authorization_model_id;
    await client.write({ writes: file.tuples });
  });
  after(async () => {
    await client?.deleteStore();
  });

  for (const test of file.tests) {
    it(test.name, async () => {
      const wrong: string[] = [];
      for (const check of test.check) {
        for (const [relation, expected] of Object.entries(check.assertions)) {
          const { allowed } = await client.check({ user: check.user, relation, object: check.object });
          if (allowed !== expected)
            wrong.push(`${check.user} ${relation} ${check.object}: ${allowed}, expected ${expected}`);
        }
      }
      assert.deepEqual(wrong, []);
    });
  }

  it('has checks for every relation a caller is asked for (can_*) on every type that defines one', () => {
    const model = authorizationModel() as { type_definitions: { type: string; relations?: Record<string, unknown> }[] };
    const asked = new Set(
      file.tests.flatMap((t) =>
        t.check.flatMap((c) => Object.keys(c.assertions).map((r) => `${c.object.split(':')[0]}#${r}`)),
      ),
    );
    const defined = model.type_definitions.flatMap((type) =>
      Object.keys(type.relations ?? {})
        .filter((relation) => relation.startsWith('can_'))
        .map((relation) => `${type.type}#${relation}`),
    );
    assert.deepEqual(
      defined.filter((permission) => !asked.has(permission)),
      [],
    );
  });
});
