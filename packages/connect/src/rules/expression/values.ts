/**
 * Values of the rule expression language: text, numbers, booleans, lists of
 * text (a multi-valued attribute), and null (no value). AuthoritativeNull is
 * a null that also stops lower-precedence rules from giving the attribute a
 * value.
 */
export const authoritativeNull: unique symbol = Symbol('AuthoritativeNull');
export type Value = string | number | boolean | null | string[] | typeof authoritativeNull;

export class ExpressionError extends Error {}

export const isNull = (v: Value): v is null | typeof authoritativeNull => v === null || v === authoritativeNull;

/** A value as a list: null is empty, a single value is a one-element list. */
export function toList(v: Value): string[] {
  if (isNull(v)) return [];
  if (Array.isArray(v)) return v;
  return [toText(v)!];
}

/** A value as text; null stays null. A list of one value is that value; a longer list is an error. */
export function toText(v: Value): string | null {
  if (isNull(v)) return null;
  if (Array.isArray(v)) {
    if (v.length === 0) return null;
    if (v.length === 1) return v[0]!;
    throw new ExpressionError(`a list of ${v.length} values where one text value is needed: pick one with Item(list, n) or Join(list, ", ")`);
  }
  return String(v);
}

export function toNumber(v: Value, what: string): number {
  const t = toText(v);
  const n = t === null ? NaN : Number(t);
  if (!Number.isFinite(n)) throw new ExpressionError(`${what} must be a number, not ${t === null ? 'null' : JSON.stringify(t)}`);
  return n;
}

/** Truthiness: false, null, "", "false", 0 and an empty list are false. */
export function toBoolean(v: Value): boolean {
  if (isNull(v)) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (Array.isArray(v)) return v.length > 0;
  return v !== '' && v.toLowerCase() !== 'false';
}

/** Equality as administrators expect it of directory data: case-insensitive text, null equals only null or "". */
export function looselyEqual(a: Value, b: Value): boolean {
  if (isNull(a) || isNull(b)) return (isNull(a) || a === '') && (isNull(b) || b === '');
  if (typeof a === 'boolean' || typeof b === 'boolean') return toBoolean(a) === toBoolean(b);
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  const la = toList(a);
  const lb = toList(b);
  return la.length === lb.length && la.every((x, i) => x.localeCompare(lb[i]!, undefined, { sensitivity: 'accent' }) === 0);
}
