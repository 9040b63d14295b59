import type { z } from 'zod';
import { SkybridgeError } from '../http/problem.ts';
import { parseWith } from '../http/validate.ts';

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

/** A list's filters: every query parameter but limit and cursor, validated by `schema` (unknown ones refused). */
export function listFilters<T extends z.ZodType>(query: URLSearchParams, schema: T, what: string): z.infer<T> {
  return parseWith(schema, Object.fromEntries([...query.entries()].filter(([k]) => k !== 'limit' && k !== 'cursor')), what);
}

/**
 * Newest-first paging over a growing numeric id (the logs): the page size,
 * the id to continue below (null on the first page), and `finish`, which
 * cuts the rows read (limit + 1) to a page and its nextCursor.
 */
export function newestFirst(query: URLSearchParams) {
  const limit = pageSize(query);
  const cursor = decodeCursor(query.get('cursor'), (v): v is { id: number } => Number.isSafeInteger(v.id));
  return {
    limit,
    below: cursor?.id ?? null,
    finish<R extends { id: string | number }>(rows: R[]): { page: R[]; nextCursor: string | null } {
      const page = rows.slice(0, limit);
      return { page, nextCursor: rows.length > limit ? encodeCursor({ id: Number(page.at(-1)!.id) }) : null };
    },
  };
}
