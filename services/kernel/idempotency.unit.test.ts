import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { requestHash } from './idempotency.ts';

describe('idempotency request hash', () => {
  it('ignores key order and undefined fields, so only the request itself counts', () => {
    assert.equal(
      requestHash({ a: 1, b: { c: [1, 2], d: 'x' } }),
      requestHash({ b: { d: 'x', c: [1, 2] }, a: 1, e: undefined }),
    );
  });

  it('differs when any value differs', () => {
    assert.notEqual(requestHash({ by: 1 }), requestHash({ by: 2 }));
    assert.notEqual(requestHash({ c: [1, 2] }), requestHash({ c: [2, 1] }));
  });
});
