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
import type { RouteAccess } from './roles.ts';
import { resourceId } from './ids.ts';
import {
  addMemberBody,
  approvalAccepted,
  createTenantBody,
  memberPath,
  membershipView,
  offboardingStarted,
  onboardingView,
  tenantCreated,
  tenantPath,
  tenantView,
} from './tenant.contracts.ts';

/**
 * Response headers a route may send, defined once. Every response also carries X-Request-Id, and
 * every 503 Retry-After (see COMMON_HEADERS in contracts/generate.ts).
 */
export const RESPONSE_HEADERS = {
  ETag: {
    description: 'The version as a strong ETag, e.g. "3": send it back as If-Match (writes) or If-None-Match (reads)',
    schema: z.string().regex(/^"\d{1,16}"$/),
  },
  'Idempotent-Replayed': {
    description: 'Sent (true) when this is the stored answer to an earlier request with the same Idempotency-Key',
    schema: z.literal('true'),
  },
  'X-Min-Version-Met': {
    description: 'With ?minVersion: whether the read model reached that version before the answer',
    schema: z.enum(['true', 'false']),
  },
  Location: {
    description: 'Where to follow the work this request started',
    schema: z.string().regex(/^\/v1\//),
  },
} as const satisfies Record<string, { description: string; schema: z.ZodType }>;
export type ResponseHeader = keyof typeof RESPONSE_HEADERS;

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
  /** The relation the caller needs (checked in OpenFGA), or `none` for any signed-in caller. */
  access: RouteAccess;
  success: {
    status: 200 | 202;
    description: string;
    schema: z.ZodType;
    /** The headers of the success answer: sent on every one, or only sometimes (described in RESPONSE_HEADERS). */
    headers?: { readonly [H in ResponseHeader]?: 'always' | 'sometimes' };
  };
  /** Answers 304 Not Modified (with ETag) to an If-None-Match of the current version. */
  notModified?: true;
  errors: readonly ErrorCode[];
}

/** A route with its exact types kept (operation id, schemas): the BFF types each handler's input from it. */
const route = <const R extends RouteContract>(contract: R): R => contract;

const COMMON_ERRORS: ErrorCode[] = ['VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'INTERNAL', 'UNAVAILABLE'];
const MUTATION_ERRORS: ErrorCode[] = [
  ...COMMON_ERRORS,
  'IDEMPOTENCY_KEY_MISSING',
  'VERSION_CONFLICT',
  'IDEMPOTENCY_IN_FLIGHT',
  'IDEMPOTENCY_KEY_REUSED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
];

/** A counter write's answer: its new version, and whether it is a replay. */
const MUTATION_HEADERS = { ETag: 'always', 'Idempotent-Replayed': 'sometimes' } as const;

const counterPathTemplate = '/v1/tenants/{tenantId}/counters/{counterId}';

function counterChange<const Id extends string>(
  operationId: Id,
  action: string,
  summary: string,
  extraErrors: ErrorCode[] = [],
) {
  return route({
    operationId,
    method: 'post',
    path: `${counterPathTemplate}/${action}`,
    summary,
    params: counterPath,
    body: counterChangeBody,
    idempotent: true,
    ifMatch: true,
    access: { object: 'counter', relation: 'can_write' },
    success: {
      status: 200,
      description: 'The counter after the change',
      schema: counterChangeResponse,
      headers: MUTATION_HEADERS,
    },
    errors: [...MUTATION_ERRORS, 'NOT_FOUND', 'TENANT_STATE_CONFLICT', ...extraErrors],
  });
}

export const HTTP_ROUTES = [
  route({
    operationId: 'getCounter',
    method: 'get',
    path: counterPathTemplate,
    summary: 'Read a counter from its read model (value and version; version 0 if never written)',
    params: counterPath,
    query: counterReadQuery,
    idempotent: false,
    ifMatch: false,
    access: { object: 'counter', relation: 'can_read' },
    success: {
      status: 200,
      description:
        'The counter, with ETag "<version>"; with minVersion, X-Min-Version-Met says whether it was reached in time',
      schema: counterView,
      headers: { ETag: 'always', 'X-Min-Version-Met': 'sometimes' },
    },
    notModified: true,
    errors: [...COMMON_ERRORS, 'NOT_FOUND'],
  }),
  counterChange('incrementCounter', 'increment', 'Add `by` to a counter (a new counter must fit the plan quota)', [
    'QUOTA_EXCEEDED',
  ]),
  counterChange('decrementCounter', 'decrement', 'Subtract `by` from a counter (never below 0)', [
    'COUNTER_FLOOR_REACHED',
  ]),
  route({
    operationId: 'resetCounter',
    method: 'post',
    path: `${counterPathTemplate}/reset`,
    summary: 'Set a counter back to 0',
    params: counterPath,
    body: counterResetBody,
    idempotent: true,
    ifMatch: true,
    access: { object: 'counter', relation: 'can_write' },
    success: {
      status: 200,
      description: 'The counter after the reset',
      schema: counterChangeResponse,
      headers: MUTATION_HEADERS,
    },
    errors: [...MUTATION_ERRORS, 'NOT_FOUND', 'TENANT_STATE_CONFLICT'],
  }),
  route({
    operationId: 'rebuildProjection',
    method: 'post',
    path: '/v1/admin/projections/{projection}/rebuild',
    summary:
      'Rebuild a read model from the outbox (fresh tables, replay, atomic swap); joins a rebuild already running',
    params: z.object({ projection: resourceId }),
    idempotent: false,
    ifMatch: false,
    access: { object: 'platform', relation: 'admin' },
    success: {
      status: 202,
      description: 'The rebuild workflow was started (or is already running); follow it in the Temporal Web UI',
      schema: z.object({ projection: z.string(), workflowId: z.string() }),
    },
    errors: [...COMMON_ERRORS, 'NOT_FOUND'],
  }),
  route({
    operationId: 'createTenant',
    method: 'post',
    path: '/v1/tenants',
    summary: 'Create a tenant: starts its onboarding saga; the caller becomes its owner',
    params: z.object({}),
    body: createTenantBody,
    idempotent: true,
    ifMatch: false,
    access: { object: 'none' },
    success: {
      status: 202,
      description:
        'Onboarding started (Location: the onboarding status); the same Idempotency-Key and body return the same tenant',
      schema: tenantCreated,
      headers: { Location: 'always', 'Idempotent-Replayed': 'sometimes' },
    },
    errors: [
      ...COMMON_ERRORS,
      'IDEMPOTENCY_KEY_MISSING',
      'IDEMPOTENCY_KEY_REUSED',
      'SLUG_TAKEN',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
    ],
  }),
  route({
    operationId: 'getTenant',
    method: 'get',
    path: '/v1/tenants/{tenantId}',
    summary: 'Read a tenant (read model): status, plan, members count',
    params: tenantPath,
    idempotent: false,
    ifMatch: false,
    access: { object: 'tenant', relation: 'can_read' },
    success: {
      status: 200,
      description: 'The tenant, with ETag "<version>"',
      schema: tenantView,
      headers: { ETag: 'always' },
    },
    notModified: true,
    errors: [...COMMON_ERRORS, 'NOT_FOUND'],
  }),
  route({
    operationId: 'getOnboarding',
    method: 'get',
    path: '/v1/tenants/{tenantId}/onboarding',
    summary: 'Live onboarding status: each step and the saga status (a query on the workflow)',
    params: tenantPath,
    idempotent: false,
    ifMatch: false,
    access: { object: 'tenant', relation: 'can_read' },
    success: { status: 200, description: 'The saga as it is now', schema: onboardingView },
    errors: [...COMMON_ERRORS, 'NOT_FOUND'],
  }),
  route({
    operationId: 'approveOnboarding',
    method: 'post',
    path: '/v1/tenants/{tenantId}/onboarding/approve',
    summary: 'Approve an enterprise onboarding that waits for it (signal)',
    params: tenantPath,
    idempotent: false,
    ifMatch: false,
    access: { object: 'tenant', relation: 'can_approve' },
    success: { status: 202, description: 'The approval was delivered to the saga', schema: approvalAccepted },
    errors: [...COMMON_ERRORS, 'NOT_FOUND'],
  }),
  route({
    operationId: 'deleteTenant',
    method: 'delete',
    path: '/v1/tenants/{tenantId}',
    summary:
      'Offboard an active tenant (deactivate: writes stop; remove its resources and every access; archive), or cancel an onboarding still in progress (the saga compensates)',
    params: tenantPath,
    idempotent: false,
    ifMatch: false,
    access: { object: 'tenant', relation: 'can_delete' },
    success: {
      status: 202,
      description:
        'Offboarding started (or already running), or the onboarding is being cancelled; follow it in the Temporal Web UI. A compensated, failed or archived tenant answers 409 TENANT_STATE_CONFLICT',
      schema: offboardingStarted,
    },
    errors: [...COMMON_ERRORS, 'NOT_FOUND', 'TENANT_STATE_CONFLICT'],
  }),
  route({
    operationId: 'addMember',
    method: 'post',
    path: '/v1/tenants/{tenantId}/members',
    summary:
      'Give a user a role in the tenant (admin, member or viewer; replaces the role they had): runs the membership workflow and answers when it has completed',
    params: tenantPath,
    body: addMemberBody,
    idempotent: true,
    ifMatch: false,
    access: { object: 'tenant', relation: 'can_manage_members' },
    success: {
      status: 200,
      description: 'The membership as the completed workflow left it: the user has the role from now on',
      schema: membershipView,
      headers: { 'Idempotent-Replayed': 'sometimes' },
    },
    errors: [
      ...COMMON_ERRORS,
      'NOT_FOUND',
      'IDEMPOTENCY_KEY_MISSING',
      'IDEMPOTENCY_KEY_REUSED',
      'MEMBER_IS_OWNER',
      'TENANT_STATE_CONFLICT',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
    ],
  }),
  route({
    operationId: 'removeMember',
    method: 'delete',
    path: '/v1/tenants/{tenantId}/members/{userId}',
    summary:
      "Remove a user's role in the tenant: runs the membership workflow and answers when it has completed (idempotent: removing a non-member answers the same)",
    params: memberPath,
    idempotent: false,
    ifMatch: false,
    access: { object: 'tenant', relation: 'can_manage_members' },
    success: {
      status: 200,
      description: 'The membership as the completed workflow left it (role null: the user has no access from now on)',
      schema: membershipView,
    },
    errors: [...COMMON_ERRORS, 'NOT_FOUND', 'MEMBER_IS_OWNER', 'TENANT_STATE_CONFLICT'],
  }),
];
