// The failure table (runtime/failures.ts): each row of README "Reliability" with the error shapes the
// clients really throw (the shapes were taken from real outages; the outage tests prove them live).
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { ServiceError } from '@temporalio/client';
import { errors as nats } from '@nats-io/transport-node';
import { FgaError, FgaValidationError } from '@openfga/sdk';
import { Metadata } from '@grpc/grpc-js';
import { describe, it } from 'mocha';
import { BUSY_RETRY, busyRetry } from './connections.ts';
import { BackendTerminatedError, ConnectionError } from 'slonik';
import { DomainError } from '../services/kernel/errors.ts';
import {
  asActivityFailure,
  classifyFailure,
  INFRASTRUCTURE_UNAVAILABLE,
  UNEXPECTED_FAILURE_ATTEMPTS,
} from './failures.ts';

const sqlstate = (code: string, message = 'from the server') => Object.assign(new Error(message), { code });
const errno = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });
const grpc = (code: number) =>
  new ServiceError('Failed to start workflow', { cause: Object.assign(new Error(`${code}`), { code }) });

describe('failure classes', () => {
  const rows: [string, unknown, ReturnType<typeof classifyFailure>][] = [
    ['a domain error', new DomainError('SLUG_TAKEN', 'taken'), { class: 'business', code: 'SLUG_TAKEN' }],
    [
      'Postgres refusing connections (slonik)',
      new ConnectionError('connect ECONNREFUSED', { cause: errno('ECONNREFUSED') }),
      { class: 'infrastructure', dependency: 'postgres' },
    ],
    [
      'Postgres shutting down under a statement',
      new BackendTerminatedError(sqlstate('57P01')),
      { class: 'infrastructure', dependency: 'postgres' },
    ],
    ['Postgres starting up (57P03)', sqlstate('57P03'), { class: 'infrastructure', dependency: 'postgres' }],
    ['a serialization failure (40001)', sqlstate('40001'), { class: 'infrastructure', dependency: 'postgres' }],
    ['a statement timeout (57014)', sqlstate('57014'), { class: 'infrastructure', dependency: 'postgres' }],
    ['a unique violation (23505)', sqlstate('23505'), { class: 'unexpected' }],
    ['a NUL in text (22021)', sqlstate('22021'), { class: 'unexpected' }],
    ['a NATS request timing out', new nats.TimeoutError(), { class: 'infrastructure', dependency: 'nats' }],
    ['a closed NATS connection', new nats.ClosedConnectionError(), { class: 'infrastructure', dependency: 'nats' }],
    ['Temporal UNAVAILABLE', grpc(14), { class: 'infrastructure', dependency: 'temporal' }],
    ['Temporal past the deadline', grpc(4), { class: 'infrastructure', dependency: 'temporal' }],
    ['Temporal INVALID_ARGUMENT', grpc(3), { class: 'unexpected' }],
    [
      'OpenFGA not reachable (the SDK reports a bare FgaError)',
      new FgaError(errno('ECONNREFUSED')),
      { class: 'infrastructure', dependency: 'openfga' },
    ],
    [
      'OpenFGA refusing a malformed request',
      new FgaValidationError('user', 'user must be type:id'),
      { class: 'unexpected' },
    ],
    ['a socket refused', errno('ECONNREFUSED'), { class: 'infrastructure', dependency: 'network' }],
    ['a socket reset', errno('ECONNRESET'), { class: 'infrastructure', dependency: 'network' }],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')"), { class: 'unexpected' }],
  ];
  for (const [name, error, expected] of rows) {
    it(`${name}: ${expected.class}`, () => assert.deepEqual(classifyFailure(error), expected));
  }
});

describe('activity failures by class', () => {
  it('a business failure is final at once, typed by its code, with its details', () => {
    const failure = asActivityFailure(new DomainError('QUOTA_EXCEEDED', 'full', { maxCounters: 10 }), 1);
    assert.equal(failure.type, 'QUOTA_EXCEEDED');
    assert.equal(failure.nonRetryable, true);
    assert.deepEqual(failure.details, [{ maxCounters: 10 }]);
  });

  it('an infrastructure failure stays retryable however many attempts it has had', () => {
    const failure = asActivityFailure(new nats.TimeoutError(), 10_000);
    assert.equal(failure.type, INFRASTRUCTURE_UNAVAILABLE);
    assert.equal(failure.nonRetryable, false);
    assert.deepEqual(failure.details, [{ dependency: 'nats' }]);
  });

  it(`an unexpected failure is retried until attempt ${UNEXPECTED_FAILURE_ATTEMPTS}, then final`, () => {
    const bug = new TypeError('x is undefined');
    assert.equal(asActivityFailure(bug, UNEXPECTED_FAILURE_ATTEMPTS - 1).nonRetryable, false);
    const last = asActivityFailure(bug, UNEXPECTED_FAILURE_ATTEMPTS);
    assert.equal(last.nonRetryable, true);
    assert.equal(last.type, 'TypeError');
    assert.equal(last.cause, bug);
  });

  it('an ApplicationFailure thrown on purpose (an injected fault) passes unchanged', () => {
    const injected = ApplicationFailure.nonRetryable('injected', 'INJECTED_FAULT');
    assert.equal(asActivityFailure(injected, 1), injected);
  });
});

describe('the BFF client: a call Temporal refused as busy is retried briefly, an unavailable Temporal is not', () => {
  const status = (code: number) => ({ code, details: '', metadata: new Metadata() });
  it('retries RESOURCE_EXHAUSTED up to BUSY_RETRY.attempts in all, 50, 100, 200 ms apart', () => {
    const decisions = [1, 2, 3, 4].map((attempt) => busyRetry.retryableDecider(attempt, status(8)));
    assert.deepEqual(decisions, [true, true, true, false]);
    assert.equal(decisions.filter(Boolean).length + 1, BUSY_RETRY.attempts);
    assert.deepEqual(
      [1, 2, 3].map((attempt) => busyRetry.delayFunction(attempt, status(8))),
      [50, 100, 200],
    );
  });
  it('does not retry UNAVAILABLE or DEADLINE_EXCEEDED: those answer 503 at once', () => {
    assert.equal(busyRetry.retryableDecider(1, status(14)), false);
    assert.equal(busyRetry.retryableDecider(1, status(4)), false);
  });
});
