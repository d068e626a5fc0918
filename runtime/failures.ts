// Failure classes: the one table behind every retry decision (README "Reliability").
//   business        a DomainError, i.e. a code of contracts/errors.ts. Retrying cannot help: an
//                   activity fails at once (the saga compensates), the BFF answers the code.
//   infrastructure  a server that is unreachable, restarting, overloaded or too slow: Postgres,
//                   NATS, Temporal or OpenFGA. Waited out: an activity stays retryable (the workflow's retry
//                   policy bounds the wait, workflows/retry-policy.ts); the BFF answers 503 with
//                   Retry-After.
//   unexpected      anything else (a bug, data no one foresaw): retried a few times in case it is
//                   transient after all, then failed like a business error.
import { ApplicationFailure } from '@temporalio/common';
import { ServiceError } from '@temporalio/client';
import { JetStreamApiError } from '@nats-io/jetstream';
import { errors as nats } from '@nats-io/transport-node';
import {
  BackendTerminatedError,
  BackendTerminatedUnexpectedlyError,
  ConnectionError,
  IdleTransactionTimeoutError,
  StatementTimeoutError,
} from 'slonik';
import {
  FgaApiError,
  FgaApiInternalError,
  FgaApiRateLimitExceededError,
  FgaError,
  FgaValidationError,
} from '@openfga/sdk';
import type { Dependency } from '../contracts/errors.ts';
import { DomainError } from '../services/kernel/errors.ts';
import { postgresErrorCode } from '../services/kernel/postgres-errors.ts';

export type FailureClass =
  | { class: 'business'; code: DomainError['code'] }
  | { class: 'infrastructure'; dependency: Dependency }
  | { class: 'unexpected' };

/**
 * SQLSTATEs that say the server, not the statement, is the problem: connection exceptions (08),
 * insufficient resources (53), operator intervention (57P01 admin shutdown, 57P02 crash shutdown,
 * 57P03 cannot connect now), a cancelled or timed-out statement (57014), and the conflicts a retry
 * resolves (40001 serialization failure, 40P01 deadlock, 55P03 lock not available).
 */
const POSTGRES_TRANSIENT = /^(08...|53...|57P0[123]|57014|40001|40P01|55P03)$/;

/** Socket errors of any client: the peer is down, restarting or unreachable. */
const NETWORK_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** gRPC statuses from Temporal that a later call may not get: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED. */
const GRPC_TRANSIENT = new Set([14, 4, 8]);

const NATS_TRANSIENT = [
  nats.TimeoutError,
  nats.NoRespondersError,
  nats.ClosedConnectionError,
  nats.ConnectionError,
  nats.DrainingConnectionError,
  nats.RequestError,
];

/** Slonik's errors for a connection lost or never made, and for a statement the server timed out. */
const POSTGRES_CONNECTION = [
  ConnectionError,
  BackendTerminatedError,
  BackendTerminatedUnexpectedlyError,
  StatementTimeoutError,
  IdleTransactionTimeoutError,
];

/** Which dependency failed, when the error (or one of its causes) says a server failed. */
export function unavailableDependency(error: unknown): Dependency | undefined {
  const code = postgresErrorCode(error);
  if (code !== undefined) return POSTGRES_TRANSIENT.test(code) ? 'postgres' : undefined;
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    if (POSTGRES_CONNECTION.some((type) => current instanceof type)) return 'postgres';
    if (NATS_TRANSIENT.some((type) => current instanceof type)) return 'nats';
    if (current instanceof JetStreamApiError && current.code === 503) return 'nats';
    if (current instanceof FgaApiInternalError || current instanceof FgaApiRateLimitExceededError) return 'openfga';
    // The OpenFGA SDK reports a server it could not reach as a bare FgaError (no response, no cause).
    if (current instanceof FgaError && !(current instanceof FgaApiError) && !(current instanceof FgaValidationError))
      return 'openfga';
    if (current instanceof ServiceError) {
      const grpc = (current.cause as { code?: unknown } | undefined)?.code;
      return typeof grpc === 'number' && GRPC_TRANSIENT.has(grpc) ? 'temporal' : undefined;
    }
    const errno = (current as { code?: unknown }).code;
    if (typeof errno === 'string' && NETWORK_ERRNO.has(errno)) return 'network';
  }
  return undefined;
}

export function classifyFailure(error: unknown): FailureClass {
  if (error instanceof DomainError) return { class: 'business', code: error.code };
  const dependency = unavailableDependency(error);
  return dependency ? { class: 'infrastructure', dependency } : { class: 'unexpected' };
}

/** Attempts an unexpected failure gets before it fails the activity for good. */
export const UNEXPECTED_FAILURE_ATTEMPTS = 5;

/** The ApplicationFailure type of a failure worth waiting out; retryable whatever the policy's attempts. */
export const INFRASTRUCTURE_UNAVAILABLE = 'INFRASTRUCTURE_UNAVAILABLE';

/**
 * What an activity throws for `error` on its `attempt` (1-based): a business failure is
 * non-retryable with its code as type; an infrastructure failure is retryable; an unexpected one is
 * retryable until UNEXPECTED_FAILURE_ATTEMPTS, then non-retryable.
 */
export function asActivityFailure(error: unknown, attempt: number): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  const failure = classifyFailure(error);
  const cause = error instanceof Error ? error : undefined;
  const message = error instanceof Error ? error.message : String(error);
  switch (failure.class) {
    case 'business':
      return ApplicationFailure.create({
        message,
        type: failure.code,
        nonRetryable: true,
        details: [(error as DomainError).details],
      });
    case 'infrastructure':
      return ApplicationFailure.create({
        message: `${failure.dependency} unavailable: ${message}`,
        type: INFRASTRUCTURE_UNAVAILABLE,
        nonRetryable: false,
        details: [{ dependency: failure.dependency }],
        ...(cause ? { cause } : {}),
      });
    case 'unexpected':
      return ApplicationFailure.create({
        message,
        type: cause?.name ?? 'Error',
        nonRetryable: attempt >= UNEXPECTED_FAILURE_ATTEMPTS,
        ...(cause ? { cause } : {}),
      });
  }
}
