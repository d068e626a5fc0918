// Strings that must never reach storage: each carries at least one code unit Postgres cannot store
// or a one-line field should not hold (contracts/text.ts), somewhere among ordinary characters.
import fc from 'fast-check';

/** NUL and other C0 controls, DEL, C1 controls (NEL among them), lone high and low surrogates. */
export const HOSTILE_CODE_UNITS = [
  '\u0000',
  '\u0001',
  '\u0007',
  '\t',
  '\n',
  '\r',
  '\u001b',
  '\u007f',
  '\u0080',
  '\u0085',
  '\u009f',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
];

/** Printable ASCII around one or more hostile code units (ASCII neighbours cannot pair a surrogate). */
export function hostileText(maxAround = 12): fc.Arbitrary<string> {
  const around = fc.string({ maxLength: maxAround });
  return fc
    .tuple(around, fc.array(fc.constantFrom(...HOSTILE_CODE_UNITS), { minLength: 1, maxLength: 3 }), around)
    .map(([before, units, after]) => `${before}${units.join('x')}${after}`); // 'x' between: two units must not pair
}
