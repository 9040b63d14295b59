import type { z } from 'zod';
import { SkybridgeError } from './problem.ts';

/** Turns a zod failure into problem+json field errors with JSON pointers. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => {
    const pointer = '/' + issue.path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
    if (issue.code === 'unrecognized_keys') {
      return { pointer, message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove ${issue.keys.length > 1 ? 'them' : 'it'}` };
    }
    return { pointer, message: issue.message };
  });
  const unknown = result.error.issues.some((i) => i.code === 'unrecognized_keys');
  const first = errors[0];
  return fail(unknown ? 'unknown_field' : 'invalid_request', `${what} is invalid${first ? `: ${first.pointer} ${first.message}` : ''}`, errors);
}

function fail(code: 'unknown_field' | 'invalid_request', detail: string, errors: { pointer: string; message: string }[]): never {
  throw new SkybridgeError(code, detail, { errors });
}

/** Reads a JSON request body within a size limit, with clear errors for each way it can be wrong. */
export async function readJson(req: Request, limitBytes: number): Promise<unknown> {
  const type = req.headers.get('content-type') ?? '';
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    throw new SkybridgeError('unsupported_media_type', `send the body as JSON with Content-Type: application/json (got ${type ? `"${type}"` : 'none'})`);
  }
  const declared = Number(req.headers.get('content-length') ?? NaN);
  const reader = req.body?.getReader();
  if (Number.isFinite(declared) && declared > limitBytes) {
    await discard(reader, limitBytes);
    throw tooLarge(limitBytes);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limitBytes) {
        await discard(reader, limitBytes);
        throw tooLarge(limitBytes);
      }
      chunks.push(value);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) throw new SkybridgeError('invalid_json', 'the request body is empty: send a JSON document');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SkybridgeError('invalid_json', `the request body is not valid JSON: ${(err as Error).message}`);
  }
}

const tooLarge = (limit: number) =>
  new SkybridgeError('body_too_large', `the request body exceeds ${limit} bytes: send fewer objects per request`);

/**
 * Reads and drops the rest of an oversize body (up to 16 times the limit) so
 * that the client, still sending, receives the 413 instead of a reset
 * connection; beyond that the connection is cut.
 */
async function discard(reader: ReadableStreamDefaultReader<Uint8Array> | undefined, limitBytes: number): Promise<void> {
  if (!reader) return;
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    size += value.byteLength;
    if (size > 16 * limitBytes) {
      await reader.cancel().catch(() => undefined);
      return;
    }
  }
}
