import { SkybridgeError } from '../http/problem.ts';

export const defaultPageSize = 100;
export const maxPageSize = 1000;

/** Page size from `?limit=`, with a clear error when it is not a number in range. */
export function pageSize(query: URLSearchParams, fallback = defaultPageSize, max = maxPageSize): number {
  const raw = query.get('limit');
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new SkybridgeError('invalid_request', `limit must be a whole number from 1 to ${max} (got "${raw}")`);
  }
  return n;
}

/** An opaque cursor: base64url JSON, so that clients never build one themselves. */
export function encodeCursor(value: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T extends Record<string, string | number>>(raw: string | null, check: (v: Record<string, unknown>) => v is T): T | null {
  if (raw === null || raw === '') return null;
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (value && typeof value === 'object' && check(value as Record<string, unknown>)) return value as T;
  } catch {
    // fall through
  }
  throw new SkybridgeError('invalid_request', 'the cursor is not one this API returned: pass the cursor from the previous page unchanged, or omit it to start over');
}
