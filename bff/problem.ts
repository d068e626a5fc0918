// The BFF's one error type and its problem+json rendering (RFC 9457; codes in contracts/errors.ts).
import { randomUUID } from 'node:crypto';
import {
  ERROR_STATUS,
  type ErrorCode,
  type ExtensionsArgument,
  type Problem,
  type ProblemExtensions,
} from '../contracts/index.ts';
import { DomainError } from '../services/kernel/errors.ts';

class HttpProblemClass extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extensions: object = {},
  ) {
    super(`${code}: ${detail}`);
    this.status = ERROR_STATUS[code];
  }
}

/** Thrown anywhere in the BFF to answer with a problem+json of a stable code and its extensions. */
export type HttpProblem<C extends ErrorCode = ErrorCode> = HttpProblemClass & {
  readonly code: C;
  readonly extensions: ProblemExtensions<C>;
};

/** Typed by its code, like DomainError (services/kernel/errors.ts): only the extensions the code declares. */
export const HttpProblem = HttpProblemClass as {
  new <C extends ErrorCode>(code: C, detail: string, ...[extensions]: ExtensionsArgument<C>): HttpProblem<C>;
  readonly prototype: HttpProblem;
};

const TITLES: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'Request validation failed',
  IDEMPOTENCY_KEY_MISSING: 'Idempotency-Key header missing',
  UNAUTHENTICATED: 'Authentication required',
  FORBIDDEN: 'Forbidden',
  NOT_FOUND: 'Not found',
  METHOD_NOT_ALLOWED: 'Method not allowed',
  VERSION_CONFLICT: 'Version conflict',
  IDEMPOTENCY_IN_FLIGHT: 'Request with this Idempotency-Key is in flight',
  COUNTER_FLOOR_REACHED: 'Counter cannot go below its floor',
  SLUG_TAKEN: 'Tenant slug already taken',
  QUOTA_EXCEEDED: "The tenant's plan quota is used up",
  TENANT_STATE_CONFLICT: 'Tenant is not in a state that allows this',
  MEMBER_IS_OWNER: "The owner's membership changes only with onboarding and offboarding",
  PAYLOAD_TOO_LARGE: 'Payload too large',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  IDEMPOTENCY_KEY_REUSED: 'Idempotency-Key reused with a different request',
  INTERNAL: 'Internal error',
  UNAVAILABLE: 'Service unavailable',
};

export function toProblem(error: HttpProblem, requestId: string): Problem & Record<string, unknown> {
  return {
    type: `urn:problem:${error.code.toLowerCase().replaceAll('_', '-')}`,
    title: TITLES[error.code],
    status: error.status,
    code: error.code,
    detail: error.detail,
    requestId,
    ...error.extensions,
  };
}

/**
 * The raw HTTP answer for a request Node's parser refused before Koa saw it (a NUL or control
 * character in a header, a malformed request line): 400 VALIDATION_FAILED as problem+json, and the
 * connection closed, since the stream cannot be trusted after it.
 */
export function malformedRequestResponse(reason: string): string {
  const body = JSON.stringify(
    toProblem(new HttpProblem('VALIDATION_FAILED', `the request is not valid HTTP/1.1: ${reason}`), randomUUID()),
  );
  return [
    'HTTP/1.1 400 Bad Request',
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/** Maps anything thrown below the BFF to a problem: ours and the services' errors keep their code. */
export function asHttpProblem(error: unknown): HttpProblem | undefined {
  if (error instanceof HttpProblem) return error;
  if (error instanceof DomainError) return new HttpProblem(error.code, error.message, error.details);
  return undefined;
}
