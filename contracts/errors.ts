// Error codes and their HTTP statuses: the one table the BFF, the services and the docs share.
import { z } from 'zod';

export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  IDEMPOTENCY_KEY_MISSING: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  VERSION_CONFLICT: 409,
  IDEMPOTENCY_IN_FLIGHT: 409,
  COUNTER_FLOOR_REACHED: 409,
  SLUG_TAKEN: 409,
  QUOTA_EXCEEDED: 409,
  TENANT_STATE_CONFLICT: 409,
  MEMBER_IS_OWNER: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export const errorCode = z.enum(
  Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...(keyof typeof ERROR_STATUS)[]],
);
export type ErrorCode = z.infer<typeof errorCode>;

/** RFC 9457 problem details with our stable `code` and the request id. */
export const problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: errorCode,
  detail: z.string(),
  requestId: z.string(),
});
export type Problem = z.infer<typeof problem>;
