// Generates the committed contract artefacts from the zod schemas: contracts/generated/openapi.json
// (OpenAPI 3.1), contracts/generated/asyncapi.json (AsyncAPI 3, contracts/asyncapi.ts) and one JSON
// Schema per event version. `npm run contracts` writes them; the drift gate
// (`npm run contracts -- --check`, part of `npm test`) regenerates and fails on any difference. Before
// either, the compatibility gate (contracts/compatibility.ts) compares each event schema with its
// committed file.
import { z } from 'zod';
import { ERROR_CODES, ERROR_STATUS, problemOf, type ErrorCode } from './errors.ts';
import type { EventContract } from './events.ts';
import { RESPONSE_HEADERS, type ResponseHeader, type RouteContract } from './http-api.ts';
import { renderAsyncApi } from './asyncapi.ts';

export const GENERATED_DIR = 'contracts/generated';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') => {
  const generated = z.toJSONSchema(schema, { io, unrepresentable: 'throw' }) as Record<string, unknown>;
  delete generated.$schema; // embedded schemas inherit the document's dialect
  return generated;
};

/** The component name of one code's problem schema, e.g. VERSION_CONFLICT → VersionConflictProblem. */
const problemSchemaName = (code: ErrorCode) =>
  `${code
    .toLowerCase()
    .split('_')
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('')}Problem`;

/** A response header object: its description and schema from RESPONSE_HEADERS, required if always sent. */
function headerObject(name: ResponseHeader, required: boolean) {
  const { description, schema } = RESPONSE_HEADERS[name];
  return { description, required, schema: jsonSchema(schema, 'output') };
}

/** Headers on many responses, as components: the request id (every response), Retry-After (every 503). */
const SHARED_HEADERS = {
  'X-Request-Id': {
    description:
      "The request's id (the caller's X-Request-Id when that is a UUID); a problem repeats it as `requestId`",
    required: true,
    schema: { type: 'string', minLength: 1 },
  },
  'Retry-After': {
    description: 'Seconds to wait before retrying (a write with the same Idempotency-Key)',
    required: true,
    schema: { type: 'string', pattern: '^\\d+$' },
  },
};
const REQUEST_ID_HEADER = { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } };
const RETRY_AFTER_HEADER = { 'Retry-After': { $ref: '#/components/headers/Retry-After' } };

function parameters(route: RouteContract): Record<string, unknown>[] {
  const list: Record<string, unknown>[] = Object.entries(route.params.shape).map(([name, schema]) => ({
    name,
    in: 'path',
    required: true,
    schema: jsonSchema(schema as z.ZodType, 'input'),
  }));
  for (const [name, schema] of Object.entries(route.query?.shape ?? {})) {
    const generated = jsonSchema(schema as z.ZodType, 'input');
    list.push({ name, in: 'query', required: false, description: generated.description, schema: generated });
  }
  if (route.idempotent) {
    list.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: true,
      description:
        'Unique per intended change (1-255 visible ASCII characters). A retry with the same key and body replays the stored response (header Idempotent-Replayed: true).',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$' },
    });
  }
  if (route.ifMatch) {
    list.push({
      name: 'If-Match',
      in: 'header',
      required: false,
      description:
        'Expected version as a strong ETag, e.g. "3". Without it the server retries version conflicts itself.',
      schema: { type: 'string', pattern: '^"\\d{1,15}"$' },
    });
  }
  if (route.notModified) {
    list.push({
      name: 'If-None-Match',
      in: 'header',
      required: false,
      description: 'The ETag the caller holds; the answer is 304 Not Modified while it is still the current version.',
      schema: { type: 'string' },
    });
  }
  return list;
}

function responses(route: RouteContract): Record<string, unknown> {
  const successHeaders: Record<string, unknown> = { ...REQUEST_ID_HEADER };
  const declared = Object.entries(route.success.headers ?? {}) as [ResponseHeader, 'always' | 'sometimes'][];
  for (const [name, when] of declared) successHeaders[name] = headerObject(name, when === 'always');
  const result: Record<string, unknown> = {
    [route.success.status]: {
      description: route.success.description,
      headers: successHeaders,
      content: { 'application/json': { schema: jsonSchema(route.success.schema, 'output') } },
    },
  };
  if (route.notModified) {
    const kept = declared.filter(([name]) => name === 'ETag' || name === 'X-Min-Version-Met');
    result[304] = {
      description: 'Not modified: the If-None-Match is the current version',
      headers: {
        ...REQUEST_ID_HEADER,
        ...Object.fromEntries(kept.map(([name, when]) => [name, headerObject(name, when === 'always')])),
      },
    };
  }
  const codesByStatus = new Map<number, ErrorCode[]>();
  for (const code of route.errors)
    codesByStatus.set(ERROR_STATUS[code], [...(codesByStatus.get(ERROR_STATUS[code]) ?? []), code]);
  for (const [status, codes] of [...codesByStatus.entries()].sort(([a], [b]) => a - b)) {
    const refs = codes.map((code) => ({ $ref: `#/components/schemas/${problemSchemaName(code)}` }));
    result[status] = {
      description: codes.join(' | '),
      headers: { ...REQUEST_ID_HEADER, ...(status === 503 ? RETRY_AFTER_HEADER : {}) },
      content: { 'application/problem+json': { schema: refs.length === 1 ? refs[0] : { oneOf: refs } } },
    };
  }
  return result;
}

function operation(route: RouteContract) {
  return {
    operationId: route.operationId,
    summary: route.summary,
    security: [{ bearer: [] }],
    'x-required-access':
      route.access.object === 'none' ? 'signed-in' : `${route.access.relation} on ${route.access.object}`,
    parameters: parameters(route),
    ...(route.body
      ? {
          requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } },
        }
      : {}),
    responses: responses(route),
  };
}

export function renderOpenApi(routes: readonly RouteContract[]): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method] = operation(route);
  const problems = ERROR_CODES.map((code) => [problemSchemaName(code), jsonSchema(problemOf(code), 'output')] as const);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Durable-workflow backend BFF',
      version: '1',
      description:
        'Generated from contracts/ (zod). Errors are RFC 9457 problem+json with a stable `code`; each code has a schema of its own with the extension members it carries (contracts/errors.ts).',
    },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: Object.fromEntries(problems),
      headers: SHARED_HEADERS,
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
