import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseFilter, parsePatchPath } from '../../src/scim/filter/parse.ts';
import { ScimError } from '../../src/scim/errors.ts';

const examples = JSON.parse(readFileSync(new URL('./rfc7644-examples.json', import.meta.url), 'utf8')) as { filters: string[] };

test('every filter example of RFC 7644 §3.4.2.2 parses', () => {
  assert.equal(examples.filters.length, 17);
  for (const f of examples.filters) assert.doesNotThrow(() => parseFilter(f), f);
});

test('precedence: not binds tighter than and, and tighter than or; grouping overrides', () => {
  assert.deepEqual(parseFilter('a pr or b pr and c pr'), {
    op: 'or', left: { op: 'pr', path: { attr: 'a' } }, right: { op: 'and', left: { op: 'pr', path: { attr: 'b' } }, right: { op: 'pr', path: { attr: 'c' } } },
  });
  const grouped = parseFilter('(a pr or b pr) and not (c eq "x")');
  assert.equal(grouped.op, 'and');
  assert.equal((grouped as { right: { op: string } }).right.op, 'not');
});

test('operators and keywords are case-insensitive; values are JSON', () => {
  const f = parseFilter('userName EQ "a\\"b" AnD active Eq TRUE and age GT 3.5e1 and manager eq null');
  assert.deepEqual(JSON.parse(JSON.stringify(f)).right.value, null);
  const text = JSON.stringify(f);
  assert.match(text, /"value":"a\\"b"/);
  assert.match(text, /"value":true/);
  assert.match(text, /"value":35/);
});

test('qualified attribute paths keep their schema (the URN holds a dot)', () => {
  assert.deepEqual(parseFilter('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"'), {
    op: 'eq', path: { schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', attr: 'manager', sub: 'value' }, value: 'x',
  });
});

test('value paths, and PATCH paths with a sub-attribute after the filter', () => {
  const f = parseFilter('emails[type eq "work" and value co "@example.com"]');
  assert.equal(f.op, 'valuePath');
  const p = parsePatchPath('addresses[type eq "work"].streetAddress');
  assert.equal(p.path.attr, 'addresses');
  assert.equal(p.sub, 'streetAddress');
  assert.equal(p.filter?.op, 'eq');
  // RFC 7644 §3.5.2.2 prints this path without a space after eq; it is accepted
  assert.equal(parsePatchPath('members[value eq"2819c223-7f76-453a-919d-413861904646"]').filter?.op, 'eq');
});

test('malformed filters are invalidFilter errors that say where', () => {
  for (const bad of ['userName', 'userName eq', 'userName eq bjensen', 'userName xx "a"', '(userName pr', 'userName pr)', 'emails[type eq "work"', 'name co 3', 'a pr and', 'emails[x[y pr]]', '"just a string"', 'userName eq "unterminated']) {
    assert.throws(() => parseFilter(bad), (err: unknown) => err instanceof ScimError && err.scimType === 'invalidFilter' && /position \d+/.test(err.message), bad);
  }
  assert.throws(() => parsePatchPath('emails[type eq "work"]x'), (err: unknown) => err instanceof ScimError && err.scimType === 'invalidPath');
});
