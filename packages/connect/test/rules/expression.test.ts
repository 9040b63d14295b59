/** The rule expression language: what each function family computes, and how bad expressions fail. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileExpression, ExpressionSyntaxError } from '../../src/rules/expression/compile.ts';
import { ExpressionError } from '../../src/rules/expression/values.ts';

const attrs: Record<string, string[]> = {
  givenname: ['Zoë'], sn: ['Müller'], department: ['Sales'], title: ['account manager'],
  proxyaddresses: ['SMTP:zoe@contoso.com', 'smtp:zm@contoso.com', 'X500:/o=Contoso/cn=zoe'],
  objectguid: ['03020100-0504-0706-0809-0a0b0c0d0e0f'], 'ms-ds-consistencyguid': ['AAECAwQFBgcICQoLDA0ODw=='],
  useraccountcontrol: ['514'], extensionattribute1: ['a;b;;c'],
};
const input = { dn: 'CN=Müller\\, Zoë,OU=Sales,OU=Staff,DC=corp,DC=example,DC=com', attribute: (n: string) => attrs[n.toLowerCase()] };
const ev = (source: string) => compileExpression(source)(input);

test('attributes: one value is text, several a list, none null; names are case-insensitive and may hold hyphens', () => {
  assert.equal(ev('GIVENNAME'), 'Zoë');
  assert.deepEqual(ev('proxyAddresses'), attrs.proxyaddresses);
  assert.equal(ev('telephoneNumber'), null);
  assert.equal(ev('ms-DS-ConsistencyGuid'), 'AAECAwQFBgcICQoLDA0ODw==');
  assert.equal(ev('dn'), input.dn);
});

test('text functions and concatenation', () => {
  assert.equal(ev('LCase(Left(RemoveDiacritics(givenName), 1) & RemoveDiacritics(sn)) & "@contoso.com"'), 'zmuller@contoso.com');
  assert.equal(ev('ProperCase(title)'), 'Account Manager');
  assert.equal(ev('Mid("abcdef", 2, 3)'), 'bcd');
  assert.equal(ev('Right("abcdef", 2)'), 'ef');
  assert.equal(ev('Len(sn)'), 6);
  assert.equal(ev('Replace(title, "manager", "executive")'), 'account executive');
  assert.equal(ev('InStr(title, "man")'), 9);
  assert.equal(ev('Word("a b,c", 3, " ,")'), 'c');
  assert.equal(ev('PadLeft("7", 3, "0")'), '007');
  assert.equal(ev('Trim("  x  ")'), 'x');
  assert.equal(ev('"n" + 1'), 'n1');
  assert.equal(ev('1 + 2 * 3'), 7);
  assert.equal(ev('null & null'), null, 'null & null stays null');
  assert.equal(ev('sn & telephoneNumber'), 'Müller', 'a missing value concatenates as empty');
});

test('conditions: comparisons are case-insensitive; IIF and Coalesce evaluate only what they need', () => {
  assert.equal(ev('department == "SALES" && StartsWith(title, "Account")'), true);
  assert.equal(ev('department != "Sales" || !IsPresent(title)'), false);
  assert.equal(ev('IIF(IsPresent(mobile), mobile, "none")'), 'none');
  assert.equal(ev('IIF(true, "ok", Error("never evaluated"))'), 'ok');
  assert.equal(ev('Coalesce(mobile, telephoneNumber, department)'), 'Sales');
  assert.equal(ev('BitAnd(userAccountControl, 2) != 0'), true, 'the account is disabled (ACCOUNTDISABLE)');
  assert.equal(ev('IsNullOrEmpty(mobile)'), true);
  assert.equal(ev('10 > 9'), true, 'numbers compare as numbers');
  assert.equal(ev('department ? "has" : "none"'), 'has');
});

test('lists: Where, Item, Count, Join, Split, Contains, Distinct, Append', () => {
  assert.deepEqual(ev('Where(proxyAddresses, "smtp:")'), ['SMTP:zoe@contoso.com', 'smtp:zm@contoso.com']);
  assert.equal(ev('Item(proxyAddresses, 3)'), 'X500:/o=Contoso/cn=zoe');
  assert.equal(ev('Item(proxyAddresses, 9)'), null);
  assert.equal(ev('Count(Where(proxyAddresses, "smtp:"))'), 2);
  assert.deepEqual(ev('Split(extensionAttribute1, ";")'), ['a', 'b', 'c']);
  assert.equal(ev('Join(Split(extensionAttribute1, ";"), "|")'), 'a|b|c');
  assert.equal(ev('Contains(proxyAddresses, "smtp:ZM@contoso.com")'), true);
  assert.deepEqual(ev('Distinct(["a", "A", "b"])'), ['a', 'b']);
  assert.deepEqual(ev('Append(Where(proxyAddresses, "SMTP:zoe"), "smtp:zoe@fabrikam.com")'), ['SMTP:zoe@contoso.com', 'smtp:zoe@fabrikam.com']);
  assert.deepEqual(ev('LCase(Where(proxyAddresses, "smtp:"))'), ['smtp:zoe@contoso.com', 'smtp:zm@contoso.com'], 'text functions map over lists');
});

test('distinguished names, GUIDs and base64', () => {
  assert.equal(ev('DNComponent(dn, 1)'), 'Müller, Zoë');
  assert.equal(ev('DNComponent(dn, 2)'), 'Sales');
  assert.equal(ev('DNComponentRev(dn, 1, "OU")'), 'Staff');
  assert.equal(ev('DNComponentRev(dn, 3)'), 'corp');
  assert.equal(ev('DNParent(dn)'), 'OU=Sales,OU=Staff,DC=corp,DC=example,DC=com');
  assert.equal(ev('GuidToBase64(objectGUID)'), 'AAECAwQFBgcICQoLDA0ODw==', 'objectGUID as the immutable id');
  assert.equal(ev('StringFromGuid(ms-DS-ConsistencyGuid)'), '03020100-0504-0706-0809-0a0b0c0d0e0f');
  assert.equal(ev('ConvertFromBase64(ConvertToBase64(sn))'), 'Müller');
});

test('evaluation errors name what went wrong', () => {
  assert.throws(() => ev('Error("no department for " & sn)'), (e: Error) => e instanceof ExpressionError && e.message === 'no department for Müller');
  assert.throws(() => ev('Left(proxyAddresses, 3)'), (e: Error) => e instanceof ExpressionError && /list of 3 values/.test(e.message) && /Item\(list, n\)/.test(e.message));
  assert.throws(() => ev('Left(sn, "x")'), (e: Error) => e instanceof ExpressionError && /Left's length must be a number/.test(e.message));
  assert.throws(() => ev('GuidToBase64(sn)'), ExpressionError);
});

test('bad expressions are refused when they are compiled, saying where', () => {
  const refused = (source: string, pattern: RegExp) => assert.throws(() => compileExpression(source), (e: Error) => e instanceof ExpressionSyntaxError && pattern.test(e.message), source);
  refused('Foo(sn)', /there is no function Foo\(\)/);
  refused('Left(sn)', /Left\(\) takes 2 arguments, not 1/);
  refused('Coalesce()', /at least 1/);
  refused('sn.length', /not supported/);
  refused('sn | x', /Unexpected "\|"/);
  refused('Left(sn, 1', /Expected \)/);
  refused('sn; title', /one expression/);
  refused('constructor.constructor("return process")()', /only functions can be called|not supported/);
});

test('docs/sync-rules.md lists every function with its signature', async () => {
  const { readFileSync } = await import('node:fs');
  const { functions } = await import('../../src/rules/expression/functions.ts');
  const doc = readFileSync(new URL('../../../../docs/sync-rules.md', import.meta.url), 'utf8');
  for (const def of Object.values(functions)) {
    const signature = def.doc.slice(0, def.doc.indexOf(')') + 1);
    assert.ok(doc.includes(`| \`${signature}\` |`), `docs/sync-rules.md lacks ${signature}`);
  }
});
