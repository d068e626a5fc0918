// Generates the committed contract artefacts from the zod schemas: contracts/generated/openapi.json
// (OpenAPI 3.1), contracts/generated/asyncapi.json (AsyncAPI 3, contracts/asyncapi.ts) and one JSON
// Schema per event version. `npm run contracts` writes them; the drift gate
// (`npm run contracts -- --check`, part of `npm test`) regenerates and fails on any difference. Before
// either, the compatibility gate (contracts/compatibility.ts) compares each event schema with its
// committed file.
import { z } from 'zod';
import { ERROR_STATUS, problem, type ErrorCode } from './errors.ts';
import type { EventContract } from './events.ts';
import type { RouteContract } from './http-api.ts';
import { renderAsyncApi } from './asyncapi.ts';

export const GENERATED_DIR = 'contracts/generated';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') => {
  const generated = z.toJSONSchema(schema, { io, unrepresentable: 'throw' }) as Record<string, unknown>;
  delete generated.$schema; // embedded schemas inherit the document's dialect
  return generated;
};

function operation(route: RouteContract) {
  const parameters: Record<string, unknown>[] = Object.entries(route.params.shape).map(([name, schema]) => ({
    name,
    in: 'path',
    required: true,
    schema: jsonSchema(schema as z.ZodType, 'input'),
  }));
  for (const [name, schema] of Object.entries(route.query?.shape ?? {})) {
    const generated = jsonSchema(schema as z.ZodType, 'input');
    parameters.push({ name, in: 'query', required: false, description: generated.description, schema: generated });
  }
  if (route.idempotent) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: true,
      description:
        'Unique per intended change (1-255 visible ASCII characters). A retry with the same key and body replays the stored response (header Idempotent-Replayed: true).',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$' },
    });
  }
  if (route.ifMatch) {
    parameters.push({
      name: 'If-Match',
      in: 'header',
      required: false,
      description:
        'Expected version as a strong ETag, e.g. "3". Without it the server retries version conflicts itself.',
      schema: { type: 'string', pattern: '^"\\d{1,15}"$' },
    });
  }
  const errorsByStatus = new Map<number, ErrorCode[]>();
  for (const code of route.errors)
    errorsByStatus.set(ERROR_STATUS[code], [...(errorsByStatus.get(ERROR_STATUS[code]) ?? []), code]);
  const responses: Record<string, unknown> = {
    [route.success.status]: {
      description: route.success.description,
      content: { 'application/json': { schema: jsonSchema(route.success.schema, 'output') } },
    },
  };
  for (const [status, codes] of [...errorsByStatus.entries()].sort(([a], [b]) => a - b)) {
    responses[status] = {
      description: codes.join(' | '),
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    };
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    security: [{ bearer: [] }],
    'x-required-access':
      route.access.object === 'none' ? 'signed-in' : `${route.access.relation} on ${route.access.object}`,
    parameters,
    ...(route.body
      ? {
          requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } },
        }
      : {}),
    responses,
  };
}

export function renderOpenApi(routes: readonly RouteContract[]): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method] = operation(route);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Durable-workflow backend BFF',
      version: '1',
      description: 'Generated from contracts/ (zod). Errors are RFC 9457 problem+json with a stable `code`.',
    },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Problem: jsonSchema(problem, 'output') },
    },
  };
}

export function renderEventSchema(event: EventContract): unknown {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `urn:event:${event.aggregateType}:${event.eventType}:v${event.schemaVersion}`,
    title: `${event.eventType} v${event.schemaVersion}`,
    'x-aggregate-type': event.aggregateType,
    ...jsonSchema(event.payload, 'output'),
  };
}

/** Where the JSON Schema of one event version is committed. */
export function eventSchemaPath(event: { eventType: string; schemaVersion: number }): string {
  return `${GENERATED_DIR}/events/${event.eventType}.v${event.schemaVersion}.schema.json`;
}

/** Every generated file: repository-relative path → content. */
export function renderContracts(
  routes: readonly RouteContract[],
  events: readonly EventContract[],
): Map<string, string> {
  const files = new Map<string, string>();
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  files.set(`${GENERATED_DIR}/openapi.json`, json(renderOpenApi(routes)));
  files.set(`${GENERATED_DIR}/asyncapi.json`, json(renderAsyncApi(events)));
  for (const event of events) files.set(eventSchemaPath(event), json(renderEventSchema(event)));
  return files;
}

/**
 * What differs between the generated files and those on disk: changed, missing and stale paths.
 * `held` are files on disk that are not generated but must stay: a past event version awaiting its
 * upcaster, which the compatibility gate reports instead.
 */
export function contractDrift(
  generated: Map<string, string>,
  onDisk: Map<string, string>,
  held: ReadonlySet<string> = new Set(),
): string[] {
  const drift: string[] = [];
  for (const [path, content] of generated) {
    if (!onDisk.has(path)) drift.push(`missing: ${path}`);
    else if (onDisk.get(path) !== content) drift.push(`changed: ${path}`);
  }
  for (const path of onDisk.keys()) if (!generated.has(path) && !held.has(path)) drift.push(`stale: ${path}`);
  return drift.sort();
}
