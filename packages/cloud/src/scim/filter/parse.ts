/**
 * The SCIM filter grammar of RFC 7644 §3.4.2.2, and PATCH paths (§3.5.2):
 *
 *   FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
 *   valuePath = attrPath "[" valFilter "]"
 *   attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
 *   logExp    = FILTER SP ("and" / "or") SP FILTER
 *   compValue = false / null / true / number / string
 *   attrPath  = [URI ":"] ATTRNAME *1subAttr
 *   PATH      = attrPath / valuePath [subAttr]
 *
 * Precedence: grouping, then not, then and, then or. Operators and keywords
 * are case-insensitive. Errors are SCIM `invalidFilter` / `invalidPath` with
 * the position of the problem.
 */
import { ScimError } from '../errors.ts';

export const compareOps = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'lt', 'ge', 'le'] as const;
export type CompareOp = (typeof compareOps)[number];
export type CompValue = string | number | boolean | null;

export interface AttrPath {
  /** schema URN, when the path was written fully qualified */
  schema?: string;
  attr: string;
  sub?: string;
}

export type Filter =
  | { op: 'and' | 'or'; left: Filter; right: Filter }
  | { op: 'not'; filter: Filter }
  | { op: 'pr'; path: AttrPath }
  | { op: CompareOp; path: AttrPath; value: CompValue }
  | { op: 'valuePath'; path: AttrPath; filter: Filter };

export interface PatchPath {
  path: AttrPath;
  /** the value filter of `attr[filter]` */
  filter?: Filter;
  /** `attr[filter].sub` */
  sub?: string;
}

type Token =
  | { t: 'word'; v: string; at: number }
  | { t: 'string'; v: string; at: number }
  | { t: 'number'; v: number; at: number }
  | { t: '(' | ')' | '[' | ']'; at: number }
  | { t: 'end'; at: number };

const wordChar = /[A-Za-z0-9:._$\-]/;

function tokenize(text: string, kind: 'filter' | 'path'): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (message: string, at: number): never => {
    throw syntaxError(kind, `${message} at position ${at + 1} of ${JSON.stringify(text)}`);
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ t: c, at: i });
      i++;
    } else if (c === '"') {
      // a JSON string: find its end, honouring escapes, and let JSON.parse decode it
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) fail('unterminated string', i);
      let v: string;
      try {
        v = JSON.parse(text.slice(i, j + 1)) as string;
      } catch {
        return fail('invalid escape in string', i);
      }
      tokens.push({ t: 'string', v, at: i });
      i = j + 1;
    } else if (/[-0-9]/.test(c) && (tokens.at(-1)?.t === 'word') && compareOps.includes((tokens.at(-1) as { v: string }).v.toLowerCase() as CompareOp)) {
      const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i));
      if (!m) return fail('invalid number', i);
      tokens.push({ t: 'number', v: Number(m[0]), at: i });
      i += m[0].length;
    } else if (wordChar.test(c)) {
      let j = i;
      while (j < text.length && wordChar.test(text[j]!)) j++;
      tokens.push({ t: 'word', v: text.slice(i, j), at: i });
      i = j;
    } else {
      fail(`unexpected character ${JSON.stringify(c)}`, i);
    }
  }
  tokens.push({ t: 'end', at: text.length });
  return tokens;
}

function syntaxError(kind: 'filter' | 'path', detail: string): ScimError {
  return kind === 'filter' ? new ScimError(400, 'invalidFilter', `the filter is invalid: ${detail}`) : new ScimError(400, 'invalidPath', `the path is invalid: ${detail}`);
}

const attrName = /^[A-Za-z][A-Za-z0-9_$-]*$/;

/** Splits `urn:…:User:name.familyName` into schema, attribute and sub-attribute. */
export function parseAttrPath(raw: string, kind: 'filter' | 'path' = 'filter'): AttrPath {
  let schema: string | undefined;
  let rest = raw;
  const colon = raw.lastIndexOf(':');
  if (colon >= 0) {
    schema = raw.slice(0, colon);
    rest = raw.slice(colon + 1);
    if (!/^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:/i.test(`${schema}:`)) throw syntaxError(kind, `${JSON.stringify(raw)} is not an attribute path (a schema prefix must be a URN)`);
  }
  const parts = rest.split('.');
  if (parts.length > 2 || !parts.every((p) => attrName.test(p))) {
    throw syntaxError(kind, `${JSON.stringify(raw)} is not an attribute path (ATTRNAME, ATTRNAME.subAttr or URN:ATTRNAME)`);
  }
  return { ...(schema ? { schema } : {}), attr: parts[0]!, ...(parts[1] ? { sub: parts[1] } : {}) };
}

class Parser {
  #tokens: Token[];
  #pos = 0;
  readonly #text: string;
  readonly #kind: 'filter' | 'path';

  constructor(text: string, kind: 'filter' | 'path') {
    this.#text = text;
    this.#kind = kind;
    this.#tokens = tokenize(text, kind);
  }

  peek(): Token {
    return this.#tokens[this.#pos]!;
  }

  next(): Token {
    return this.#tokens[this.#pos++]!;
  }

  fail(message: string, at = this.peek().at): never {
    throw syntaxError(this.#kind, `${message} at position ${at + 1} of ${JSON.stringify(this.#text)}`);
  }

  keyword(token: Token, word: string): boolean {
    return token.t === 'word' && token.v.toLowerCase() === word;
  }

  /**
   * FILTER (or, inside `attr[…]`, valFilter) with `or` lowest. A valFilter
   * is the same grammar without nested value paths.
   */
  parseOr(inValuePath = false): Filter {
    let left = this.parseAnd(inValuePath);
    while (this.keyword(this.peek(), 'or')) {
      this.next();
      left = { op: 'or', left, right: this.parseAnd(inValuePath) };
    }
    return left;
  }

  parseAnd(inValuePath: boolean): Filter {
    let left = this.parseUnary(inValuePath);
    while (this.keyword(this.peek(), 'and')) {
      this.next();
      left = { op: 'and', left, right: this.parseUnary(inValuePath) };
    }
    return left;
  }

  parseUnary(inValuePath: boolean): Filter {
    const t = this.peek();
    if (this.keyword(t, 'not')) {
      this.next();
      if (this.peek().t !== '(') this.fail('"not" must be followed by "("');
      return { op: 'not', filter: this.parseGroup(inValuePath) };
    }
    if (t.t === '(') return this.parseGroup(inValuePath);
    return this.parseAttrExp(inValuePath);
  }

  parseGroup(inValuePath: boolean): Filter {
    this.next(); // (
    const inner = this.parseOr(inValuePath);
    if (this.peek().t !== ')') this.fail('expected ")"');
    this.next();
    return inner;
  }

  parseAttrExp(inValuePath: boolean): Filter {
    const t = this.next();
    if (t.t !== 'word') this.fail('expected an attribute name', t.at);
    if (['and', 'or', 'not'].includes(t.v.toLowerCase()) && this.peek().t !== 'word') this.fail(`expected an attribute name before "${t.v}"`, t.at);
    const path = parseAttrPath(t.v, this.#kind);
    if (this.peek().t === '[') {
      if (inValuePath) this.fail('value filters cannot be nested');
      if (path.sub) this.fail(`"${t.v}[…]": a value filter applies to a multi-valued attribute, not to a sub-attribute`);
      this.next();
      const filter = this.parseOr(true);
      if (this.peek().t !== ']') this.fail('expected "]"');
      this.next();
      return { op: 'valuePath', path, filter };
    }
    const opToken = this.next();
    if (opToken.t !== 'word') this.fail(`expected an operator (pr, ${compareOps.join(', ')}) after ${t.v}`, opToken.at);
    const op = opToken.v.toLowerCase();
    if (op === 'pr') return { op: 'pr', path };
    if (!compareOps.includes(op as CompareOp)) this.fail(`unknown operator "${opToken.v}" (use pr, ${compareOps.join(', ')})`, opToken.at);
    const v = this.next();
    let value: CompValue;
    if (v.t === 'string' || v.t === 'number') value = v.v;
    else if (v.t === 'word' && /^(true|false|null)$/i.test(v.v)) value = v.v.toLowerCase() === 'null' ? null : v.v.toLowerCase() === 'true';
    else return this.fail(`expected a value (a "string", a number, true, false or null) after ${opToken.v}`, v.at);
    if ((op === 'co' || op === 'sw' || op === 'ew') && typeof value !== 'string') this.fail(`${op} compares strings: quote the value`, v.at);
    return { op: op as CompareOp, path, value };
  }

  end(): void {
    if (this.peek().t !== 'end') this.fail('unexpected text');
  }
}

/** Parses a `filter` query parameter (or a search request's filter). */
export function parseFilter(text: string): Filter {
  if (!text.trim()) throw new ScimError(400, 'invalidFilter', 'the filter is empty: leave it out to list everything');
  const p = new Parser(text, 'filter');
  const f = p.parseOr();
  p.end();
  return f;
}

/** Parses a PATCH operation's `path`. */
export function parsePatchPath(text: string): PatchPath {
  if (!text.trim()) throw new ScimError(400, 'invalidPath', 'the path is empty: leave it out to apply the value to the resource');
  const p = new Parser(text, 'path');
  const first = p.next();
  if (first.t !== 'word') return p.fail('expected an attribute path', first.at);
  const path = parseAttrPath(first.v, 'path');
  if (p.peek().t !== '[') {
    p.end();
    return { path };
  }
  if (path.sub) p.fail(`"${first.v}[…]": a value filter applies to a multi-valued attribute, not to a sub-attribute`);
  p.next();
  const filter = p.parseOr(true);
  if (p.peek().t !== ']') p.fail('expected "]"');
  const close = p.next();
  let sub: string | undefined;
  const after = p.peek();
  if (after.t === 'word') {
    if (!after.v.startsWith('.') || !attrName.test(after.v.slice(1)) || after.at !== close.at + 1) p.fail('after "]" only ".subAttribute" may follow');
    sub = after.v.slice(1);
    p.next();
  }
  p.end();
  return { path, filter, ...(sub ? { sub } : {}) };
}
