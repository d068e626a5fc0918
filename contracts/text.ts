// Text the API accepts: what Postgres can store (no NUL, which text and jsonb refuse; no unpaired
// UTF-16 surrogate, which has no UTF-8 form) and what makes sense in a one-line field (no control
// characters, C0 or C1, nor DEL). Checked at the edge (bodies, claims) and again by the services
// (saga inputs), so it fails as 400 VALIDATION_FAILED, never as a 500 or a compensated saga. The
// rules are regular expressions where they can be, so the OpenAPI document carries them as
// `pattern` and a client generating requests from it (the fuzzer) knows them.
import { z } from 'zod';

/** Unicode's Cc category: C0 (U+0000–U+001F), DEL and C1 (U+007F–U+009F). */
const CONTROL = '\\u0000-\\u001F\\u007F-\\u009F';
/** What String.prototype.trim removes, less the control characters. */
const SPACE = ' \\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\uFEFF';
const NO_CONTROL = new RegExp(`^[^${CONTROL}]*$`);
const NO_CONTROL_TRIMMED = new RegExp(`^[^${CONTROL}${SPACE}](?:[^${CONTROL}]*[^${CONTROL}${SPACE}])?$`);
// Not a pattern in the document: JSON Schema validators built on Rust's regex cannot name surrogates.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const noLoneSurrogate = (value: string) => !LONE_SURROGATE.test(value);

export const TEXT_RULE = 'must not contain NUL or other control characters, nor unpaired UTF-16 surrogates';
const TRIMMED_RULE = `${TEXT_RULE}, nor start or end with whitespace`;

/** True when `value` is one line of text that Postgres can store. */
export function isPlainText(value: string): boolean {
  return NO_CONTROL.test(value) && noLoneSurrogate(value);
}

/** One line of storable text, 1 to `max` characters (UTF-16 code units). */
export const plainText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(NO_CONTROL, TEXT_RULE)
    .refine(noLoneSurrogate, TEXT_RULE)
    .describe(`One line of text; ${TEXT_RULE}`);

/** A caller's identity (a token's `sub`, an event's actor, a member's user id). */
export const userId = plainText(255);

/** A tenant's display name: 1 to 100 characters of one line, no surrounding whitespace. */
export const tenantName = z
  .string()
  .min(1)
  .max(100)
  .regex(NO_CONTROL_TRIMMED, TRIMMED_RULE)
  .refine(noLoneSurrogate, TRIMMED_RULE)
  .describe(`The display name; it ${TRIMMED_RULE}`);
