// Text the API accepts: what Postgres can store (no NUL, which text and jsonb refuse; no unpaired
// UTF-16 surrogate, which has no UTF-8 form) and what makes sense in a one-line field (no control
// characters, C0 or C1, nor DEL). Checked at the edge (bodies, claims) and again by the services
// (saga inputs), so it fails as 400 VALIDATION_FAILED, never as a 500 or a compensated saga.
import { z } from 'zod';

/** Unicode's Cc category: C0 (U+0000–U+001F), DEL and C1 (U+007F–U+009F). */
const CONTROL = /\p{Cc}/u;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const TEXT_RULE = 'must not contain NUL or other control characters, nor unpaired UTF-16 surrogates';

/** True when `value` is one line of text that Postgres can store. */
export function isPlainText(value: string): boolean {
  return !CONTROL.test(value) && !LONE_SURROGATE.test(value);
}

/** One line of storable text, 1 to `max` characters (UTF-16 code units). */
export const plainText = (max: number) =>
  z.string().min(1).max(max).refine(isPlainText, TEXT_RULE).describe(`One line of text; ${TEXT_RULE}`);

/** A caller's identity (a token's `sub`, an event's actor, a member's user id). */
export const userId = plainText(255);

/** A tenant's display name: trimmed, 1 to 100 characters. */
export const tenantName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .refine(isPlainText, TEXT_RULE)
  .describe(`The display name, trimmed; ${TEXT_RULE}`);
