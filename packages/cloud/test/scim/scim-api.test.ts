/** SCIM behaviour beyond the RFC's examples: ETags, errors, paging, projections, large groups, synced objects. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CreatedTenant } from '@skybridge/cloud';
import type { CloudClient } from '@skybridge/connect';
import { storeKinds } from '../helpers/stores.ts';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { registerTestAgent } from '../helpers/agent.ts';

const userSchema = 'urn:ietf:params:scim:schemas:core:2.0:User';
const groupSchema = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const skybridgeUser = 'urn:skybridge:params:scim:schemas:extension:2.0:User';
const patch = (...Operations: unknown[]) => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations });

for (const kind of storeKinds) {
  describe(`SCIM API (${kind})`, () => {
    let t: TestCloud;
    let tenant: CreatedTenant;
    let token: string;
    let d: string;
    let agent: CloudClient;
    const scim = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      t.call(method, `/scim/v2${path}`, { token, ...(body !== undefined ? { body } : {}), headers: { 'content-type': 'application/scim+json', ...headers } });
    const newUser = async (name: string, extra: Record<string, unknown> = {}) => {
      const res = await scim('POST', '/Users', { schemas: [userSchema], userName: `${name}@${d}`, ...extra });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as { id: string; meta: { version: string; location: string } };
    };
    const expectError = (res: { status: number; body: any }, status: number, scimType?: string) => {
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.deepEqual(res.body.schemas, ['urn:ietf:params:scim:api:messages:2.0:Error']);
      assert.equal(res.body.status, String(status));
      assert.equal(res.body.scimType, scimType);
      assert.ok(res.body.detail.length > 10);
    };

    before(async () => {
      t = await startTestCloud(kind);
      tenant = await t.createTenant('fabrikam');
      token = await t.token(tenant);
      d = tenant.initialDomain;
      agent = await registerTestAgent(t, tenant, token);
    });
    after(() => t?.close());

    test('discovery: ServiceProviderConfig, ResourceTypes and Schemas describe what is served', async () => {
      const spc = await scim('GET', '/ServiceProviderConfig');
      assert.equal(spc.status, 200);
      assert.equal(spc.headers['content-type'], 'application/scim+json');
      assert.deepEqual([spc.body.patch.supported, spc.body.bulk.supported, spc.body.filter.supported, spc.body.sort.supported, spc.body.etag.supported], [true, true, true, true, true]);
      assert.equal(spc.body.bulk.maxOperations, 1000);
      assert.equal(spc.body.filter.maxResults, 1000);
      assert.equal(spc.body.authenticationSchemes[0].type, 'oauthbearertoken');
      const types = await scim('GET', '/ResourceTypes');
      assert.deepEqual(types.body.Resources.map((r: { name: string }) => r.name), ['User', 'Group']);
      const user = await scim('GET', '/ResourceTypes/user');
      assert.deepEqual(user.body.schemaExtensions.map((e: { schema: string }) => e.schema), ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', skybridgeUser]);
      const schemas = await scim('GET', '/Schemas');
      assert.equal(schemas.body.totalResults, 5);
      const core = await scim('GET', `/Schemas/${userSchema}`);
      const userName = core.body.attributes.find((a: { name: string }) => a.name === 'userName');
      assert.deepEqual([userName.required, userName.uniqueness, userName.caseExact], [true, 'server', false]);
      expectError(await scim('GET', '/Schemas/urn:nope'), 404);
      // malformed %-escapes are the client's mistake: a 404 here, a 400 for that one bulk operation (they were 500s)
      expectError(await scim('GET', '/Schemas/%E0%A4%A'), 404);
      const bulk = await scim('POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [
        { method: 'DELETE', path: '/Users/%E0%A4%A' },
        { method: 'DELETE', path: `/Users/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}` },
      ] });
      assert.equal(bulk.status, 200, JSON.stringify(bulk.body));
      assert.deepEqual(bulk.body.Operations.map((o: { status: string }) => o.status), ['400', '404']);
      assert.match(bulk.body.Operations[0].response.detail, /malformed %-escape/);
      expectError(await scim('GET', '/Nowhere'), 404);
      expectError(await t.call('GET', '/scim/v2/Users', {}), 401);
    });

    test('create, read, replace, patch and delete a user, with ETags and preconditions', async () => {
      const created = await scim('POST', '/Users', { schemas: [userSchema], USERNAME: `Ada@${d}`, name: { GivenName: 'Ada', familyName: 'Lovelace' }, password: 'Correct-Horse-9', externalId: 'ext-ada', active: 'True' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id;
      assert.equal(created.headers.location, `${t.url}/scim/v2/Users/${id}`);
      assert.equal(created.headers.etag, created.body.meta.version);
      assert.equal(created.body.userName, `Ada@${d}`);
      assert.deepEqual(created.body.name, { familyName: 'Lovelace', givenName: 'Ada' });
      assert.equal(created.body.externalId, 'ext-ada');
      assert.equal(created.body.active, true);
      assert.equal(created.body.password, undefined, 'a password is never returned');
      const { rows } = await t.cloud.context.store.query<{ password_hash: string }>('SELECT password_hash FROM directory_objects WHERE id = $1', [id]);
      assert.ok(rows[0]!.password_hash && !rows[0]!.password_hash.includes('Correct-Horse-9'));

      const etag = created.headers.etag as string;
      assert.equal((await scim('GET', `/Users/${id}`, undefined, { 'if-none-match': etag })).status, 304);
      const stale = 'W/"999"';
      expectError(await scim('PUT', `/Users/${id}`, { schemas: [userSchema], userName: `ada@${d}` }, { 'if-match': stale }), 412);
      const put = await scim('PUT', `/Users/${id}`, { schemas: [userSchema], userName: `ada@${d}`, displayName: 'Ada L.' }, { 'if-match': etag });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.displayName, 'Ada L.');
      assert.equal(put.body.name, undefined, 'PUT replaces: name was not sent');
      assert.equal(put.body.externalId, 'ext-ada', 'externalId left out of a PUT stays');
      assert.notEqual(put.headers.etag, etag);
      const patched = await scim('PATCH', `/Users/${id}`, patch({ op: 'Replace', path: 'active', value: 'False' }, { op: 'add', path: 'emails[type eq "work"].value', value: `ada@${d}` }), { 'if-match': put.headers.etag as string });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(patched.body.active, false);
      assert.deepEqual(patched.body.emails, [{ value: `ada@${d}`, type: 'work', primary: true }]);
      expectError(await scim('DELETE', `/Users/${id}`, undefined, { 'if-match': etag }), 412);
      assert.equal((await scim('DELETE', `/Users/${id}`, undefined, { 'if-match': patched.headers.etag as string })).status, 204);
      expectError(await scim('GET', `/Users/${id}`), 404);
      // the deleted user's userName and externalId are free again
      await newUser('ada', { externalId: 'ext-ada' });
    });

    test('errors carry the right status and scimType', async () => {
      const u = await newUser('errs');
      expectError(await scim('GET', `/Users?filter=${encodeURIComponent('userName eq')}`), 400, 'invalidFilter');
      expectError(await scim('GET', `/Users?filter=${encodeURIComponent('shoeSize gt 3')}`), 400, 'invalidFilter');
      expectError(await scim('GET', `/Users?filter=${encodeURIComponent('active co "t"')}`), 400, 'invalidFilter');
      expectError(await scim('GET', `/Users?filter=${encodeURIComponent('meta.lastModified gt "yesterday"')}`), 400, 'invalidFilter');
      expectError(await scim('POST', '/Users', { schemas: [userSchema], userName: `errs@${d}` }), 409, 'uniqueness');
      expectError(await scim('POST', '/Users', { schemas: [userSchema], userName: `x1@${d}`, shoeSize: 44 }), 400, 'invalidValue');
      expectError(await scim('POST', '/Users', { schemas: [userSchema], displayName: 'no user name' }), 400, 'invalidValue');
      expectError(await scim('POST', '/Users', { schemas: [userSchema], userName: 'not-a-upn' }), 400, 'invalidValue');
      expectError(await t.call('POST', '/scim/v2/Users', { token, rawBody: '{"schemas": [', headers: { 'content-type': 'application/scim+json' } }), 400, 'invalidSyntax');
      expectError(await scim('PATCH', `/Users/${u.id}`, { Operations: [] }), 400, 'invalidSyntax');
      expectError(await scim('PATCH', `/Users/${u.id}`, patch({ op: 'replace', path: 'emails[type eq "work"', value: 'x' })), 400, 'invalidPath');
      expectError(await scim('PATCH', `/Users/${u.id}`, patch({ op: 'replace', path: 'shoeSize', value: 'x' })), 400, 'invalidPath');
      expectError(await scim('PATCH', `/Users/${u.id}`, patch({ op: 'replace', path: 'phoneNumbers[type eq "fax"].value', value: '1' })), 400, 'noTarget');
      expectError(await scim('PATCH', `/Users/${u.id}`, patch({ op: 'remove' })), 400, 'noTarget');
      expectError(await scim('PATCH', `/Users/${u.id}`, patch({ op: 'remove', path: 'userName' })), 400, 'mutability');
      expectError(await scim('PATCH', `/Users/${u.id}`, patch({ op: 'add', path: 'groups', value: [{ value: randomUUID() }] })), 400, 'mutability');
      expectError(await scim('PATCH', `/Users/${u.id}`, patch({ op: 'replace', path: 'active', value: 'maybe' })), 400, 'invalidValue');
      const g = await scim('POST', '/Groups', { schemas: [groupSchema], displayName: 'Errors' });
      const many = Array.from({ length: 10_001 }, () => ({ value: randomUUID() }));
      expectError(await scim('PATCH', `/Groups/${g.body.id}`, patch({ op: 'add', path: 'members', value: many })), 400, 'tooMany');
      expectError(await scim('PATCH', `/Groups/${g.body.id}`, patch({ op: 'add', path: 'members', value: [{ value: randomUUID() }] })), 400, 'invalidValue');
      expectError(await scim('PATCH', `/Groups/${g.body.id}`, patch({ op: 'add', path: 'members', value: [{ value: g.body.id }] })), 400, 'invalidValue');
      expectError(await scim('DELETE', `/Groups/${randomUUID()}`), 404);
      const denied = await t.call('POST', '/scim/v2/Users', { token: await t.tokenWithRoles(tenant, ['LicenseAdministrator']), body: { schemas: [userSchema], userName: `lic@${d}` } });
      expectError(denied, 403);
    });

    test('paging by index and by cursor, sorting, counting', async () => {
      for (let i = 0; i < 12; i++) await newUser(`page${String(i).padStart(2, '0')}`, { displayName: `Page ${11 - i}` });
      const filter = encodeURIComponent('userName sw "page"');
      const first = await scim('GET', `/Users?filter=${filter}&sortBy=userName&startIndex=1&count=5`);
      assert.deepEqual([first.body.totalResults, first.body.itemsPerPage, first.body.startIndex], [12, 5, 1]);
      const third = await scim('GET', `/Users?filter=${filter}&sortBy=userName&startIndex=11&count=5`);
      assert.deepEqual(third.body.Resources.map((r: { userName: string }) => r.userName), [`page10@${d}`, `page11@${d}`]);
      const none = await scim('GET', `/Users?filter=${filter}&count=0`);
      assert.deepEqual([none.body.totalResults, none.body.Resources.length], [12, 0]);
      // cursor pagination (RFC 9865), sorted descending by displayName
      const seen: string[] = [];
      let cursor = '';
      for (let round = 0; round < 10; round++) {
        const page = await scim('GET', `/Users?filter=${filter}&sortBy=displayName&sortOrder=descending&count=5&cursor=${encodeURIComponent(cursor)}`);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        seen.push(...page.body.Resources.map((r: { displayName: string }) => r.displayName));
        if (!page.body.nextCursor) break;
        cursor = page.body.nextCursor;
      }
      assert.deepEqual(seen, Array.from({ length: 12 }, (_, i) => `Page ${11 - i}`).sort().reverse());
      expectError(await scim('GET', `/Users?filter=${filter}&sortBy=userName&count=5&cursor=${encodeURIComponent(cursor)}`), 400, 'invalidValue');
      expectError(await scim('GET', '/Users?cursor=&startIndex=2'), 400, 'invalidValue');
      expectError(await scim('GET', '/Users?sortOrder=sideways&sortBy=userName'), 400, 'invalidValue');
    });

    test('attributes and excludedAttributes shape the answer', async () => {
      const u = await newUser('proj', { displayName: 'Projected', emails: [{ value: 'p@example.com', type: 'work' }], name: { givenName: 'P', familyName: 'Roj' } });
      const only = await scim('GET', `/Users/${u.id}?attributes=userName,name.givenName,emails.value`);
      assert.deepEqual(only.body, { schemas: only.body.schemas, id: u.id, userName: `proj@${d}`, name: { givenName: 'P' }, emails: [{ value: 'p@example.com' }] });
      const without = await scim('GET', `/Users/${u.id}?excludedAttributes=emails,meta,${skybridgeUser}`);
      assert.equal(without.body.emails, undefined);
      assert.equal(without.body.meta, undefined);
      assert.equal(without.body[skybridgeUser], undefined);
      assert.equal(without.body.displayName, 'Projected');
      expectError(await scim('GET', `/Users/${u.id}?attributes=shoeSize`), 400, 'invalidValue');
    });

    test('a group pages its members; members filters and PATCH work on links', async () => {
      const users = [];
      for (let i = 0; i < 25; i++) users.push(await newUser(`m${i}`, { displayName: `Member ${i}` }));
      const g = await scim('POST', '/Groups', { schemas: [groupSchema], displayName: 'Paged', members: users.map((u) => ({ value: u.id })) });
      assert.equal(g.status, 201, JSON.stringify(g.body));
      const page1 = await scim('GET', `/Groups/${g.body.id}?membersCount=10`);
      assert.equal(page1.body.members.length, 10);
      const ext = 'urn:skybridge:params:scim:schemas:extension:2.0:Group';
      const all = [...page1.body.members];
      let next = page1.body[ext].membersNextCursor;
      while (next) {
        const page = await scim('GET', `/Groups/${g.body.id}?membersCount=10&membersCursor=${encodeURIComponent(next)}`);
        all.push(...page.body.members);
        next = page.body[ext].membersNextCursor;
      }
      assert.deepEqual(all.map((m: { value: string }) => m.value).sort(), users.map((u) => u.id).sort());
      assert.equal(all[0].type, 'User');
      const lean = await scim('GET', `/Groups/${g.body.id}?excludedAttributes=members`);
      assert.equal(lean.body.members, undefined);
      const byMember = await scim('GET', `/Groups?filter=${encodeURIComponent(`members[value eq "${users[3]!.id}"]`)}&excludedAttributes=members`);
      assert.deepEqual(byMember.body.Resources.map((r: { id: string }) => r.id), [g.body.id]);
      const byDisplay = await scim('GET', `/Groups?filter=${encodeURIComponent('members.display co "Member 2"')}&attributes=displayName`);
      assert.deepEqual(byDisplay.body.Resources.map((r: { displayName: string }) => r.displayName), ['Paged']);
      const userGroups = await scim('GET', `/Users/${users[3]!.id}?attributes=groups`);
      assert.deepEqual(userGroups.body.groups.map((x: { value: string }) => x.value), [g.body.id]);
      // remove the members whose display name starts with "Member 1" (1, 10..19): a filter on the links
      const removed = await scim('PATCH', `/Groups/${g.body.id}`, patch({ op: 'remove', path: 'members[display sw "Member 1"]' }));
      assert.equal(removed.status, 204);
      const left = await scim('GET', `/Groups/${g.body.id}?attributes=members`);
      assert.equal(left.body.members.length, 14);
      // Microsoft's client removes members by value without a filter
      const azure = await scim('PATCH', `/Groups/${g.body.id}?attributes=displayName`, patch({ op: 'Remove', path: 'members', value: [{ value: users[0]!.id }] }));
      assert.equal(azure.status, 200);
      assert.equal(azure.body.displayName, 'Paged');
      assert.equal((await scim('GET', `/Groups/${g.body.id}?attributes=members`)).body.members.length, 13);
    });

    test('synchronized objects are read only through SCIM, except their cloud-owned fields', async () => {
      const lease = await agent.acquireLease(60);
      const anchor = Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64');
      const res = await agent.sendBatch(`scim-${randomUUID()}`, {
        epoch: lease.epoch,
        operations: [{ op: 'upsert', type: 'user', immutableId: anchor, attributes: { userPrincipalName: `synced@${d}`, displayName: 'Synced', mail: `synced@${d}`, telephoneNumber: '+1 555 0100', onPremisesDistinguishedName: 'CN=Synced,OU=Staff,DC=fabrikam,DC=local' } }],
      });
      const id = res.results[0]!.objectId!;
      const read = await scim('GET', `/Users/${id}`);
      assert.equal(read.body.externalId, anchor);
      assert.equal(read.body[skybridgeUser].onPremisesSyncEnabled, true);
      assert.equal(read.body[skybridgeUser].onPremisesDistinguishedName, 'CN=Synced,OU=Staff,DC=fabrikam,DC=local');
      assert.deepEqual(read.body.phoneNumbers, [{ value: '+1 555 0100', type: 'work' }]);
      const filtered = await scim('GET', `/Users?filter=${encodeURIComponent(`externalId eq "${anchor}" and ${skybridgeUser}:onPremisesSyncEnabled eq true`)}`);
      assert.deepEqual(filtered.body.Resources.map((r: { id: string }) => r.id), [id]);
      expectError(await scim('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'displayName', value: 'Cloud name' })), 400, 'mutability');
      expectError(await scim('DELETE', `/Users/${id}`), 400, 'mutability');
      const usage = await scim('PATCH', `/Users/${id}`, patch({ op: 'replace', path: `${skybridgeUser}:usageLocation`, value: 'FR' }));
      assert.equal(usage.status, 200, JSON.stringify(usage.body));
      assert.equal(usage.body[skybridgeUser].usageLocation, 'FR');
      // a PUT of what was read (the usual client round trip) changes nothing it may not
      const same = await scim('PUT', `/Users/${id}`, usage.body);
      assert.equal(same.status, 200, JSON.stringify(same.body));
    });
  });
}
