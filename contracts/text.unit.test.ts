// The storable-text rule (contracts/text.ts), as properties: any string with a NUL, a control
// character or an unpaired surrogate is refused; any well-formed line of printable text is kept.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'mocha';
import { hostileText, HOSTILE_CODE_UNITS } from '../test/support/hostile-text.ts';
import { isPlainText, plainText, tenantName } from './text.ts';

describe('storable text', () => {
  it('refuses every string with a hostile code unit, wherever it sits (also after a JSON round trip)', () => {
    fc.assert(
      fc.property(hostileText(), (value) => {
        assert.equal(isPlainText(value), false);
        assert.equal(plainText(10_000).safeParse(JSON.parse(JSON.stringify(value))).success, false);
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps every well-formed line of printable text: any script, emoji, combining marks, surrogate pairs', () => {
    const printable = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
      .filter((value) => !/\p{Cc}/u.test(value));
    fc.assert(
      fc.property(printable, (value) => {
        assert.equal(isPlainText(value), true, JSON.stringify(value));
      }),
      { numRuns: 2_000 },
    );
  });

  it('names each kind it refuses: C0, DEL, C1, lone high and low surrogates', () => {
    for (const unit of HOSTILE_CODE_UNITS) assert.equal(isPlainText(`a${unit}b`), false, JSON.stringify(unit));
    assert.equal(isPlainText('a\u{1F600}b'), true, 'a surrogate pair is one character');
  });

  it('a tenant name has no surrounding whitespace: exactly what String.prototype.trim would leave alone', () => {
    assert.equal(tenantName.parse('Acme Ltd'), 'Acme Ltd');
    for (const refused of ['  Acme Ltd  ', 'Acme\u0000', '   ', '\uFEFFAcme', 'Acme\u3000'])
      assert.equal(tenantName.safeParse(refused).success, false, JSON.stringify(refused));
    const spaces = fc.constantFrom(' ', '\u00A0', '\u2003', '\u3000', '\uFEFF', '\u2028', 'a', 'Z', 'é', '\u{1F600}');
    fc.assert(
      fc.property(fc.string({ unit: spaces, minLength: 1, maxLength: 8 }), (value) => {
        assert.equal(tenantName.safeParse(value).success, value.trim() === value, JSON.stringify(value));
      }),
      { numRuns: 2_000 },
    );
  });
});
