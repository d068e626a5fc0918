// The authorization model (platform/authz/model.fga, OpenFGA DSL) as the JSON OpenFGA's API takes.
// The local stack writes it into its store; the model tests run against it (issue 16).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformer } from '@openfga/syntax-transformer';

export const AUTHZ_MODEL_FILE = join(import.meta.dirname, 'authz', 'model.fga');

/** The model as `POST /stores/{id}/authorization-models` takes it; throws with the line of a DSL error. */
export function authorizationModel(file = AUTHZ_MODEL_FILE): Record<string, unknown> {
  return transformer.transformDSLToJSONObject(readFileSync(file, 'utf8'));
}
