// ?minVersion: a whole number of 0 or more, or absent; an empty value is refused, not read as 0
// (Schemathesis found `?minVersion=` answered 200).
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { counterReadQuery } from './counter.contracts.ts';

describe('counterReadQuery', () => {
  it('reads a version, and no minVersion at all', () => {
    assert.deepEqual(counterReadQuery.parse({ minVersion: '3' }), { minVersion: 3 });
    assert.deepEqual(counterReadQuery.parse({ minVersion: '0' }), { minVersion: 0 });
    assert.deepEqual(counterReadQuery.parse({}), {});
  });

  it('refuses an empty, negative, fractional or non-numeric minVersion', () => {
    for (const minVersion of ['', '-1', '1.5', 'x'])
      assert.equal(
        counterReadQuery.safeParse({ minVersion }).success,
        false,
        `minVersion=${JSON.stringify(minVersion)}`,
      );
  });
});
