// Reads a JSON request body with a size limit and clear errors: 415 for another media type, 413
// past the limit, 400 for malformed JSON. An empty body reads as undefined.
import type { Context } from 'koa';
import { HttpProblem } from './problem.ts';

export const BODY_LIMIT_BYTES = 16 * 1024;

export async function readJsonBody(ctx: Context, limitBytes = BODY_LIMIT_BYTES): Promise<unknown> {
  const declared = Number(ctx.get('content-length') || 0);
  const chunked = ctx.get('transfer-encoding') !== '';
  if (declared === 0 && !chunked) return undefined;
  if (!ctx.is('application/json')) {
    throw new HttpProblem(
      'UNSUPPORTED_MEDIA_TYPE',
      `send the body as application/json (got ${ctx.get('content-type') || 'no Content-Type'})`,
    );
  }
  if (declared > limitBytes) throw tooLarge(limitBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw tooLarge(limitBytes);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpProblem('VALIDATION_FAILED', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

function tooLarge(limitBytes: number): HttpProblem {
  return new HttpProblem('PAYLOAD_TOO_LARGE', `the body exceeds ${limitBytes} bytes`);
}
