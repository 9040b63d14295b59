/** Custom rules over the default rules: precedence, scope, null and AuthoritativeNull, filters, and rule errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleSet } from '../../src/rules/rule-set.ts';
import type { SpaceObject } from '../../src/space/connector-space.ts';

const user = (dn: string, attributes: Record<string, string[]>): SpaceObject => ({
  guid: '11111111-2222-3333-4444-555555555555', dn, kind: 'user', scope: null, deleted: false, seq: 1, usnChanged: null,
  attributes: { objectClass: ['top', 'person', 'organizationalPerson', 'user'], userAccountControl: ['512'], ...attributes },
});
const pat = user('CN=Pat Lee,OU=Sales,DC=corp,DC=example,DC=com', { userPrincipalName: ['pat@corp.example.com'], givenName: ['Pat'], sn: ['Lee'], title: ['rep'], department: ['Sales'], mobile: ['+1 555'] });
const context = { domainDns: 'corp.example.com' };

test('without custom rules the defaults give every attribute', () => {
  const p = new RuleSet(context).project(pat);
  assert.equal(p.kind, 'export');
  assert.equal(p.kind === 'export' && p.attributes.jobTitle, 'rep');
  assert.equal(p.kind === 'export' && p.sources!.jobTitle, 'default');
});

test('the lowest precedence number wins; null falls through, AuthoritativeNull clears; a scope limits a rule', () => {
  const rules = new RuleSet(context, {
    rules: [
      { name: 'Late', objectType: 'user', precedence: 50, attributes: { jobTitle: '"late " & title', department: '"Dept " & department' } },
      { name: 'Early', objectType: 'user', precedence: 10, attributes: { jobTitle: 'IIF(department == "Sales", UCase(title), null)', mobile: 'AuthoritativeNull()' } },
      { name: 'Engineers only', objectType: 'user', precedence: 5, scope: 'department == "Engineering"', attributes: { jobTitle: '"engineer"' } },
      { name: 'Groups', objectType: 'group', precedence: 1, attributes: { description: '"never on a user"' } },
    ],
  });
  const p = rules.project(pat);
  assert.ok(p.kind === 'export');
  assert.equal(p.attributes.jobTitle, 'REP');
  assert.equal(p.sources!.jobTitle, 'Early');
  assert.equal(p.attributes.department, 'Dept Sales', 'only the later rule sets it');
  assert.equal(p.attributes.mobile, undefined, 'AuthoritativeNull clears the default');
  assert.equal(p.sources!.mobile, undefined);
  const other = rules.project(user('CN=Kim,OU=Ops,DC=corp,DC=example,DC=com', { userPrincipalName: ['kim@corp.example.com'], title: ['ops'], department: ['Ops'] }));
  assert.ok(other.kind === 'export');
  assert.equal(other.attributes.jobTitle, 'late ops', 'Early gives null outside Sales: the next rule decides');
});

test('attribute filters take objects out of scope; a failing expression is a rule error naming the rule and the object', () => {
  const filtered = new RuleSet(context, { filter: { groups: [], exclude: ['title == "REP"'] } }).project(pat);
  assert.deepEqual(filtered, { kind: 'skip', reason: 'filtered: title == "REP"' });
  const failing = new RuleSet(context, { rules: [{ name: 'Needs employee id', objectType: 'user', precedence: 1, attributes: { employeeId: 'Coalesce(employeeID, Error("no employeeID"))' } }] }).project(pat);
  assert.deepEqual(failing, { kind: 'error', code: 'rule_expression_failed', attribute: 'employeeId', message: `${pat.dn}: rule "Needs employee id" for employeeId: no employeeID` });
  const noUpn = new RuleSet(context, { rules: [{ name: 'Drop UPN', objectType: 'user', precedence: 1, attributes: { userPrincipalName: 'AuthoritativeNull()' } }] }).project(pat);
  assert.equal(noUpn.kind === 'error' && noUpn.code, 'missing_upn');
});

test('the fingerprint changes with the rules and filters, and only with them', () => {
  const a = new RuleSet(context, { rules: [{ name: 'R', objectType: 'user', precedence: 1, attributes: { jobTitle: 'title' } }] });
  const b = new RuleSet(context, { rules: [{ name: 'R', objectType: 'user', precedence: 1, attributes: { jobTitle: 'title' } }] });
  const c = new RuleSet(context, { rules: [{ name: 'R', objectType: 'user', precedence: 1, attributes: { jobTitle: 'UCase(title)' } }] });
  assert.equal(a.fingerprint, b.fingerprint);
  assert.notEqual(a.fingerprint, c.fingerprint);
  assert.notEqual(new RuleSet(context).fingerprint, new RuleSet(context, { filter: { groups: [], exclude: ['true'] } }).fingerprint);
});
