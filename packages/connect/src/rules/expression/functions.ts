/**
 * The functions rule expressions may call, after Azure AD Connect's
 * declarative provisioning functions (names are case-insensitive; positions
 * are 1-based, as there). Every function is pure: no I/O, no clock.
 */
import { splitDn, unescapeValue } from '../../ad/dn.ts';
import { guidToBytes, guidToString } from '../../ad/guid.ts';
import { authoritativeNull, ExpressionError, isNull, looselyEqual, toBoolean, toList, toNumber, toText, type Value } from './values.ts';

export interface FunctionDef {
  /** fewest and most arguments (Infinity: any number) */
  arity: [number, number];
  /** arguments evaluated only when needed (IIF, Coalesce): the function gets thunks */
  lazy?: boolean;
  call(args: Value[]): Value;
  callLazy?(args: (() => Value)[]): Value;
  doc: string;
}

const text = (v: Value, f: string): string | null => {
  try {
    return toText(v);
  } catch (err) {
    throw new ExpressionError(`${f}: ${(err as Error).message}`);
  }
};
const int = (v: Value, f: string, what: string): number => {
  const n = toNumber(v, `${f}'s ${what}`);
  if (!Number.isInteger(n)) throw new ExpressionError(`${f}'s ${what} must be a whole number, not ${n}`);
  return n;
};
/** Applies `fn` to text, or to every value of a list; null stays null. */
const eachText = (v: Value, fn: (s: string) => string): Value => {
  if (isNull(v)) return null;
  if (Array.isArray(v)) return v.map(fn);
  return fn(String(v));
};

/** The RDN values of a DN, unescaped, from the left (the object's own name first). */
const dnValues = (dn: string, type?: string): string[] => splitDn(dn)
  .filter((rdn) => !type || rdn.slice(0, rdn.indexOf('=')).trim().toLowerCase() === type.toLowerCase())
  .map((rdn) => unescapeValue(rdn.slice(rdn.indexOf('=') + 1)));

const base64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const functions: Record<string, FunctionDef> = {
  // ── text
  left: { arity: [2, 2], doc: 'Left(text, n): the first n characters', call: ([s, n]) => { const t = text(s!, 'Left'); return t === null ? null : t.slice(0, Math.max(0, int(n!, 'Left', 'length'))); } },
  right: { arity: [2, 2], doc: 'Right(text, n): the last n characters', call: ([s, n]) => { const t = text(s!, 'Right'); const k = int(n!, 'Right', 'length'); return t === null ? null : k <= 0 ? '' : t.slice(-k); } },
  mid: { arity: [3, 3], doc: 'Mid(text, start, length): length characters from position start (1-based)', call: ([s, a, n]) => { const t = text(s!, 'Mid'); if (t === null) return null; const start = Math.max(1, int(a!, 'Mid', 'start')); return t.substr(start - 1, Math.max(0, int(n!, 'Mid', 'length'))); } },
  len: { arity: [1, 1], doc: 'Len(text): the number of characters', call: ([s]) => text(s!, 'Len')?.length ?? 0 },
  trim: { arity: [1, 1], doc: 'Trim(text): without leading and trailing spaces (each value of a list)', call: ([s]) => eachText(s!, (x) => x.trim()) },
  lcase: { arity: [1, 1], doc: 'LCase(text): lower case (each value of a list)', call: ([s]) => eachText(s!, (x) => x.toLowerCase()) },
  ucase: { arity: [1, 1], doc: 'UCase(text): upper case (each value of a list)', call: ([s]) => eachText(s!, (x) => x.toUpperCase()) },
  propercase: { arity: [1, 1], doc: 'ProperCase(text): the first letter of each word upper case', call: ([s]) => eachText(s!, (x) => x.toLowerCase().replace(/(^|[\s\-'])(\p{L})/gu, (_m, p: string, c: string) => p + c.toUpperCase())) },
  replace: { arity: [3, 3], doc: 'Replace(text, find, with): every occurrence of find replaced (each value of a list)', call: ([s, f, w]) => { const find = text(f!, 'Replace') ?? ''; const by = text(w!, 'Replace') ?? ''; return find === '' ? s! : eachText(s!, (x) => x.split(find).join(by)); } },
  instr: { arity: [2, 2], doc: 'InStr(text, find): the position of find (1-based), 0 when absent', call: ([s, f]) => { const t = text(s!, 'InStr'); const find = text(f!, 'InStr'); return t === null || find === null ? 0 : t.indexOf(find) + 1; } },
  startswith: { arity: [2, 2], doc: 'StartsWith(text, prefix): true when text begins with prefix (case-insensitive)', call: ([s, p]) => { const t = text(s!, 'StartsWith'); const q = text(p!, 'StartsWith'); return t !== null && q !== null && t.toLowerCase().startsWith(q.toLowerCase()); } },
  endswith: { arity: [2, 2], doc: 'EndsWith(text, suffix): true when text ends with suffix (case-insensitive)', call: ([s, p]) => { const t = text(s!, 'EndsWith'); const q = text(p!, 'EndsWith'); return t !== null && q !== null && t.toLowerCase().endsWith(q.toLowerCase()); } },
  word: { arity: [3, 3], doc: 'Word(text, n, delimiters): the nth word (1-based) between any of the delimiter characters', call: ([s, n, d]) => { const t = text(s!, 'Word'); if (t === null) return null; const delims = [...(text(d!, 'Word') ?? ' ')]; const words = t.split(new RegExp(`[${delims.map((c) => c.replace(/[\\\]^-]/g, '\\$&')).join('')}]`)).filter((x) => x !== ''); return words[int(n!, 'Word', 'position') - 1] ?? null; } },
  removediacritics: { arity: [1, 1], doc: 'RemoveDiacritics(text): ä → a, ç → c (each value of a list)', call: ([s]) => eachText(s!, (x) => x.normalize('NFD').replace(/\p{M}/gu, '')) },
  padleft: { arity: [3, 3], doc: 'PadLeft(text, length, char): padded on the left to length', call: ([s, n, c]) => { const t = text(s!, 'PadLeft'); return t === null ? null : t.padStart(int(n!, 'PadLeft', 'length'), text(c!, 'PadLeft') || ' '); } },

  // ── null handling and conditions
  iif: { arity: [3, 3], lazy: true, doc: 'IIF(condition, then, else): then where condition is true, else otherwise (only the one needed is evaluated)', call: () => null, callLazy: ([c, a, b]) => (toBoolean(c!()) ? a!() : b!()) },
  coalesce: { arity: [1, Infinity], lazy: true, doc: 'Coalesce(a, b, …): the first argument that has a value', call: () => null, callLazy: (args) => { for (const a of args) { const v = a(); if (!isNull(v) && v !== '' && !(Array.isArray(v) && v.length === 0)) return v; } return null; } },
  ispresent: { arity: [1, 1], doc: 'IsPresent(x): true when x has a value', call: ([v]) => !isNull(v!) && v !== '' && !(Array.isArray(v) && v.length === 0) },
  isnullorempty: { arity: [1, 1], doc: 'IsNullOrEmpty(x): true when x has no value', call: ([v]) => isNull(v!) || v === '' || (Array.isArray(v) && v.length === 0) },
  authoritativenull: { arity: [0, 0], doc: 'AuthoritativeNull(): no value, and no lower-precedence rule gives one', call: () => authoritativeNull },
  null: { arity: [0, 0], doc: 'NULL(): no value (a lower-precedence rule may give one)', call: () => null },
  error: { arity: [1, 1], doc: 'Error(message): the object is not exported; a sync error with this message', call: ([m]) => { throw new ExpressionError(text(m!, 'Error') ?? 'Error()'); } },
  cbool: { arity: [1, 1], doc: 'CBool(x): true or false', call: ([v]) => toBoolean(v!) },
  cnum: { arity: [1, 1], doc: 'CNum(text): a number', call: ([v]) => toNumber(v!, 'CNum') },
  cstr: { arity: [1, 1], doc: 'CStr(x): text', call: ([v]) => text(v!, 'CStr') },
  bitand: { arity: [2, 2], doc: 'BitAnd(a, b): the bits set in both (userAccountControl flags)', call: ([a, b]) => Number((BigInt(Math.trunc(toNumber(a!, 'BitAnd'))) & BigInt(Math.trunc(toNumber(b!, 'BitAnd')))) & 0xffffffffn) },

  // ── lists (multi-valued attributes)
  join: { arity: [1, 2], doc: 'Join(list, separator): one text of all values (separator default ",")', call: ([l, sep]) => { const list = toList(l!); return list.length ? list.join(sep === undefined ? ',' : (text(sep, 'Join') ?? '')) : null; } },
  split: { arity: [2, 2], doc: 'Split(text, separator): a list', call: ([s, sep]) => { const t = text(s!, 'Split'); if (t === null) return null; const d = text(sep!, 'Split') ?? ','; return t.split(d).filter((x) => x !== ''); } },
  item: { arity: [2, 2], doc: 'Item(list, n): the nth value (1-based)', call: ([l, n]) => toList(l!)[int(n!, 'Item', 'position') - 1] ?? null },
  count: { arity: [1, 1], doc: 'Count(list): the number of values', call: ([l]) => toList(l!).length },
  contains: { arity: [2, 2], doc: 'Contains(list or text, value): true when a value equals it (case-insensitive), or text contains it', call: ([l, x]) => { if (Array.isArray(l)) return l.some((v) => looselyEqual(v, x!)); const t = text(l!, 'Contains'); const q = text(x!, 'Contains'); return t !== null && q !== null && t.toLowerCase().includes(q.toLowerCase()); } },
  where: { arity: [2, 2], doc: 'Where(list, prefix): the values that start with prefix (case-insensitive), e.g. Where(proxyAddresses, "smtp:")', call: ([l, p]) => { const q = (text(p!, 'Where') ?? '').toLowerCase(); const out = toList(l!).filter((v) => v.toLowerCase().startsWith(q)); return out.length ? out : null; } },
  distinct: { arity: [1, 1], doc: 'Distinct(list): without repeated values (case-insensitive)', call: ([l]) => { const seen = new Set<string>(); const out = toList(l!).filter((v) => !seen.has(v.toLowerCase()) && !!seen.add(v.toLowerCase())); return out.length ? out : null; } },
  append: { arity: [2, Infinity], doc: 'Append(list, value, …): the list with more values', call: (args) => { const out = args.flatMap((a) => toList(a)); return out.length ? out : null; } },

  // ── distinguished names
  dncomponent: { arity: [2, 2], doc: 'DNComponent(dn, n): the value of the nth RDN from the left (1: the object\'s own name)', call: ([d, n]) => { const t = text(d!, 'DNComponent'); return t === null ? null : dnValues(t)[int(n!, 'DNComponent', 'position') - 1] ?? null; } },
  dncomponentrev: { arity: [2, 3], doc: 'DNComponentRev(dn, n[, type]): the value of the nth RDN from the right (of that type, e.g. "DC" or "OU")', call: ([d, n, type]) => { const t = text(d!, 'DNComponentRev'); if (t === null) return null; const values = dnValues(t, type === undefined ? undefined : (text(type, 'DNComponentRev') ?? undefined)).reverse(); return values[int(n!, 'DNComponentRev', 'position') - 1] ?? null; } },
  dnparent: { arity: [1, 1], doc: 'DNParent(dn): the DN of the container', call: ([d]) => { const t = text(d!, 'DNParent'); return t === null ? null : splitDn(t).slice(1).join(',') || null; } },

  // ── GUIDs and base64
  converttobase64: { arity: [1, 1], doc: 'ConvertToBase64(text): base64 of the text\'s UTF-8 bytes', call: ([s]) => eachText(s!, (x) => Buffer.from(x, 'utf8').toString('base64')) },
  convertfrombase64: { arity: [1, 1], doc: 'ConvertFromBase64(base64): the UTF-8 text it encodes', call: ([s]) => eachText(s!, (x) => { if (!base64.test(x)) throw new ExpressionError(`ConvertFromBase64: ${JSON.stringify(x)} is not base64`); return Buffer.from(x, 'base64').toString('utf8'); }) },
  guidtobase64: { arity: [1, 1], doc: 'GuidToBase64(guid): the GUID\'s 16 bytes (Microsoft byte order) in base64, as an immutable id', call: ([s]) => eachText(s!, (x) => { try { return guidToBytes(x).toString('base64'); } catch { throw new ExpressionError(`GuidToBase64: ${JSON.stringify(x)} is not a GUID`); } }) },
  stringfromguid: { arity: [1, 1], doc: 'StringFromGuid(base64): the GUID string of 16 bytes given in base64 (e.g. ms-DS-ConsistencyGuid)', call: ([s]) => eachText(s!, (x) => { const b = Buffer.from(x, 'base64'); if (!base64.test(x) || b.length !== 16) throw new ExpressionError(`StringFromGuid: ${JSON.stringify(x)} is not 16 bytes in base64`); return guidToString(b); }) },
};
