// The HTTP API as data: every route with its params, body, success and error codes. The BFF
// validates with these schemas and the OpenAPI document is generated from this table.
import { z } from 'zod';
import {
  counterChangeBody,
  counterChangeResponse,
  counterPath,
  counterReadQuery,
  counterResetBody,
  counterView,
} from './counter.contracts.ts';
import type { ErrorCode } from './errors.ts';
import type { Role } from './roles.ts';
import { resourceId } from './ids.ts';
import {
  approvalAccepted,
  createTenantBody,
  offboardingStarted,
  onboardingView,
  tenantCreated,
  tenantPath,
  tenantView,
} from './tenant.contracts.ts';

export interface RouteContract {
  operationId: string;
  method: 'get' | 'post' | 'delete';
  /** OpenAPI path template, e.g. /v1/tenants/{tenantId}/counters/{counterId}. */
  path: string;
  summary: string;
  params: z.ZodObject;
  /** Query-string parameters; absent = none accepted. */
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Mutations need an Idempotency-Key header. */
  idempotent: boolean;
  /** Accepts If-Match: "<version>" as the expected version. */
  ifMatch: boolean;
  /** Role needed: in the token for the path's tenant, platform-wide, or just a signed-in user. */
  role: Exclude<Role, 'admin'> | 'user';
  success: { status: number; description: string; schema: z.ZodType };
  errors: ErrorCode[];
}

const COMMON_ERRORS: ErrorCode[] = ['VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'INTERNAL'];
const MUTATION_ERRORS: ErrorCode[] = [
  ...COMMON_ERRORS,
  'IDEMPOTENCY_KEY_MISSING',
  'VERSION_CONFLICT',
  'IDEMPOTENCY_IN_FLIGHT',
  'IDEMPOTENCY_KEY_REUSED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
];

const counterPathTemplate = '/v1/tenants/{tenantId}/counters/{counterId}';

function counterChange(
  operationId: string,
  action: string,
  summary: string,
  extraErrors: ErrorCode[] = [],
): RouteContract {
  return {
    operationId,
    method: 'post',
    path: `${counterPathTemplate}/${action}`,
    summary,
    params: counterPath,
    body: counterChangeBody,
    idempotent: true,
    ifMatch: true,
    role: 'member',
    success: { status: 200, description: 'The counter after the change', schema: counterChangeResponse },
    errors: [...MUTATION_ERRORS, ...extraErrors],
  };
}

export const HTTP_ROUTES: RouteContract[] = [
  {
    operationId: 'getCounter',
    method: 'get',
    path: counterPathTemplate,
    summary: 'Read a counter from its read model (value and version; version 0 if never written)',
    params: counterPath,
    query: counterReadQuery,
    idempotent: false,
    ifMatch: false,
    role: 'viewer',
    success: {
      status: 200,
      description:
        'The counter, with ETag "<version>"; with minVersion, X-Min-Version-Met says whether it was reached in time',
      schema: counterView,
    },
    errors: COMMON_ERRORS,
  },
  counterChange('incrementCounter', 'increment', 'Add `by` to a counter (a new counter must fit the plan quota)', [
    'QUOTA_EXCEEDED',
  ]),
  counterChange('decrementCounter', 'decrement', 'Subtract `by` from a counter (never below 0)', [
    'COUNTER_FLOOR_REACHED',
  ]),
  {
    operationId: 'resetCounter',
    method: 'post',
    path: `${counterPathTemplate}/reset`,
    summary: 'Set a counter back to 0',
    params: counterPath,
    body: counterResetBody,
    idempotent: true,
    ifMatch: true,
    role: 'member',
    success: { status: 200, description: 'The counter after the reset', schema: counterChangeResponse },
    errors: MUTATION_ERRORS,
  },
  {
    operationId: 'rebuildProjection',
    method: 'post',
    path: '/v1/admin/projections/{projection}/rebuild',
    summary:
      'Rebuild a read model from the outbox (fresh tables, replay, atomic swap); joins a rebuild already running',
    params: z.object({ projection: resourceId }),
    idempotent: false,
    ifMatch: false,
    role: 'platform-admin',
    success: {
      status: 202,
      description: 'The rebuild workflow was started (or is already running); follow it in the Temporal Web UI',
      schema: z.object({ projection: z.string(), workflowId: z.string() }),
    },
    errors: [...COMMON_ERRORS, 'NOT_FOUND'],
  },
  {
    operationId: 'createTenant',
    method: 'post',
    path: '/v1/tenants',
    summary: 'Create a tenant: starts its onboarding saga; the caller becomes its owner',
    params: z.object({}),
    body: createTenantBody,
    idempotent: true,
    ifMatch: false,
    role: 'user',
    success: {
      status: 202,
      description:
        'Onboarding started (Location: the onboarding status); the same Idempotency-Key and body return the same tenant',
      schema: tenantCreated,
    },
    errors: [
      ...COMMON_ERRORS,
      'IDEMPOTENCY_KEY_MISSING',
      'IDEMPOTENCY_KEY_REUSED',
      'SLUG_TAKEN',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
    ],
  },
  {
    operationId: 'getTenant',
    method: 'get',
    path: '/v1/tenants/{tenantId}',
    summary: 'Read a tenant (read model): status, plan, members count',
    params: tenantPath,
    idempotent: false,
    ifMatch: false,
    role: 'viewer',
    success: { status: 200, description: 'The tenant, with ETag "<version>"', schema: tenantView },
    errors: [...COMMON_ERRORS, 'NOT_FOUND'],
  },
  {
    operationId: 'getOnboarding',
    method: 'get',
    path: '/v1/tenants/{tenantId}/onboarding',
    summary: 'Live onboarding status: each step and the saga status (a query on the workflow)',
    params: tenantPath,
    idempotent: false,
    ifMatch: false,
    role: 'viewer',
    success: { status: 200, description: 'The saga as it is now', schema: onboardingView },
    errors: [...COMMON_ERRORS, 'NOT_FOUND'],
  },
  {
    operationId: 'approveOnboarding',
    method: 'post',
    path: '/v1/tenants/{tenantId}/onboarding/approve',
    summary: 'Approve an enterprise onboarding that waits for it (signal)',
    params: tenantPath,
    idempotent: false,
    ifMatch: false,
    role: 'platform-admin',
    success: { status: 202, description: 'The approval was delivered to the saga', schema: approvalAccepted },
    errors: [...COMMON_ERRORS, 'NOT_FOUND'],
  },
  {
    operationId: 'deleteTenant',
    method: 'delete',
    path: '/v1/tenants/{tenantId}',
    summary: 'Offboard a tenant: deactivate (writes stop), remove its resources, archive',
    params: tenantPath,
    idempotent: false,
    ifMatch: false,
    role: 'owner',
    success: {
      status: 202,
      description: 'Offboarding started (or already running); follow it in the Temporal Web UI',
      schema: offboardingStarted,
    },
    errors: [...COMMON_ERRORS, 'NOT_FOUND'],
  },
];
