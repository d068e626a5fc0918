// Error codes: each code's HTTP status and the extension members its problem+json carries. The one
// table the BFF, the services and the OpenAPI document share: a code's extensions are typed where
// the error is thrown (DomainError, HttpProblem) and described per code in /openapi.json.
import { z } from 'zod';
import { TENANT_STATUSES } from './tenant.contracts.ts';

/** The dependencies whose outage is answered 503 UNAVAILABLE (`network`: one we could not tell). */
export const DEPENDENCIES = ['postgres', 'nats', 'temporal', 'openfga', 'network'] as const;
export type Dependency = (typeof DEPENDENCIES)[number];

const version = z.number().int().min(0);
const fieldErrors = z
  .array(z.object({ path: z.string(), message: z.string() }).strict())
  .describe('One entry per invalid field: its path (dot-separated; `(root)` for the whole value) and what is wrong');
const tenantStatus = z.enum(TENANT_STATUSES).describe("The tenant's status at the time of the request");

/** Per code: its HTTP status and the members its problem adds to RFC 9457's (absent: none). */
export const ERRORS = {
  VALIDATION_FAILED: { status: 400, extensions: { errors: fieldErrors.optional() } },
  IDEMPOTENCY_KEY_MISSING: { status: 400 },
  UNAUTHENTICATED: { status: 401 },
  FORBIDDEN: { status: 403 },
  NOT_FOUND: { status: 404 },
  METHOD_NOT_ALLOWED: { status: 405 },
  VERSION_CONFLICT: {
    status: 409,
    extensions: {
      currentVersion: version.describe('The version now; send it as If-Match to retry'),
      expectedVersion: version.optional().describe('The version the request expected (its If-Match)'),
    },
  },
  IDEMPOTENCY_IN_FLIGHT: { status: 409 },
  COUNTER_FLOOR_REACHED: {
    status: 409,
    extensions: {
      value: version.describe("The counter's value"),
      floor: z.number().int().describe('The lowest value'),
    },
  },
  SLUG_TAKEN: { status: 409 },
  QUOTA_EXCEEDED: {
    status: 409,
    extensions: { maxCounters: z.number().int().min(0).describe("The plan's counter quota (0: no quota applied)") },
  },
  TENANT_STATE_CONFLICT: { status: 409, extensions: { tenantStatus: tenantStatus.optional() } },
  MEMBER_IS_OWNER: { status: 409 },
  PAYLOAD_TOO_LARGE: { status: 413 },
  UNSUPPORTED_MEDIA_TYPE: { status: 415 },
  IDEMPOTENCY_KEY_REUSED: { status: 422 },
  INTERNAL: { status: 500 },
  UNAVAILABLE: {
    status: 503,
    extensions: { dependency: z.enum(DEPENDENCIES).describe('What is unavailable; the response has Retry-After') },
  },
} as const satisfies Record<string, { status: number; extensions?: z.ZodRawShape }>;

export type ErrorCode = keyof typeof ERRORS;
export const ERROR_CODES = Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]];
export const errorCode = z.enum(ERROR_CODES);

export const isErrorCode = (value: unknown): value is ErrorCode =>
  typeof value === 'string' && Object.hasOwn(ERRORS, value);

export const ERROR_STATUS = Object.fromEntries(ERROR_CODES.map((code) => [code, ERRORS[code].status])) as {
  [C in ErrorCode]: (typeof ERRORS)[C]['status'];
};

type ExtensionShape<C extends ErrorCode> = (typeof ERRORS)[C] extends { extensions: infer S extends z.ZodRawShape }
  ? S
  : Record<never, never>;

/** The extension members of code `C`'s problem, as the thrower passes them (of a union of codes: any one's). */
export type ProblemExtensions<C extends ErrorCode> = C extends ErrorCode
  ? z.input<z.ZodObject<ExtensionShape<C>>>
  : never;

/** Constructor arguments after the message: the extensions, optional when the code has none required. */
export type ExtensionsArgument<C extends ErrorCode> =
  Record<never, never> extends ProblemExtensions<C>
    ? [extensions?: ProblemExtensions<C>]
    : [extensions: ProblemExtensions<C>];

/** The extension members of one code as a strict schema (e.g. to read them back from a workflow failure). */
export function problemExtensions<C extends ErrorCode>(code: C): z.ZodObject<ExtensionShape<C>> {
  const { extensions = {} } = ERRORS[code] as { extensions?: z.ZodRawShape };
  return z.object(extensions).strict() as z.ZodObject<ExtensionShape<C>>;
}

/** RFC 9457 problem details with our stable `code` and the request id, common to every code. */
export const problem = z.object({
  type: z.string().describe('urn:problem:<code in kebab case>'),
  title: z.string(),
  status: z.number().int().describe('The HTTP status'),
  code: errorCode,
  detail: z.string(),
  requestId: z.string().describe('Also in the X-Request-Id header; quote it when reporting a problem'),
});
export type Problem = z.infer<typeof problem>;

/** The exact problem of one code: the common members, `code` fixed, its extensions, nothing else. */
export function problemOf(code: ErrorCode): z.ZodObject {
  return problem
    .extend({ status: z.literal(ERRORS[code].status), code: z.literal(code), ...problemExtensions(code).shape })
    .strict();
}
