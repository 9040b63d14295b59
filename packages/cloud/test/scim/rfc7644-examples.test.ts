/**
 * Every example request of RFC 7644 §3.4.2.2 (filters), §3.5.2 (PATCH) and
 * §3.7 (Bulk), against a real cloud on both stores. The examples come from
 * rfc7644-examples.json (copied from the RFC). One adaptation: the RFC's user
 * names ("bjensen", "Alice") are not user principal names, which the
 * directory requires, so they get the tenant's initial domain; and the RFC's
 * fixed ids stand for objects the test creates.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { CreatedTenant } from '@skybridge/cloud';
import { storeKinds } from '../helpers/stores.ts';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';

interface Examples {
  filters: string[];
  patch: { section: string; id: string; body: unknown; path?: string; resolvedPath?: string; assumedPath?: string }[];
  bulk: { section: string; id: string; request: unknown }[];
}
const examples = JSON.parse(readFileSync(new URL('./rfc7644-examples.json', import.meta.url), 'utf8')) as Examples;
const enterprise = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const rfcIds = { bjensen: '2819c223-7f76-453a-919d-413861904646', jsmith: '08e1d05d-121c-4561-8b96-473d93df9210', group: 'acbf3ae7-8463-4692-b4fd-9b4da3f908ce' };

for (const kind of storeKinds) {
  describe(`SCIM: RFC 7644 examples (${kind})`, () => {
    let t: TestCloud;
    let tenant: CreatedTenant;
    let token: string;
    let d: string;
    const ids: Record<string, string> = {};
    const scim = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      t.call(method, `/scim/v2${path}`, { token, ...(body !== undefined ? { body } : {}), headers: { 'content-type': 'application/scim+json', ...headers } });

    before(async () => {
      t = await startTestCloud(kind);
      tenant = await t.createTenant('contoso');
      token = await t.token(tenant);
      d = tenant.initialDomain;
      const users = [
        { userName: `bjensen@${d}`, name: { familyName: 'Jensen', givenName: 'Barbara' }, title: 'Tour Guide', userType: 'Employee',
          emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }, { value: 'babs@jensen.org', type: 'home' }],
          ims: [{ value: 'babs@foo.com', type: 'xmpp' }], addresses: [{ type: 'work', streetAddress: '100 Universal City Plaza', locality: 'Hollywood', region: 'CA', postalCode: '91608', country: 'US', primary: true }],
          [enterprise]: { employeeNumber: '701984' } },
        { userName: `jsmith@${d}`, name: { familyName: "O'Malley", givenName: 'James' }, title: 'Engineer', userType: 'Intern', emails: [{ value: 'jsmith@example.org', type: 'work' }] },
        { userName: `jdoe@${d}`, userType: 'Employee', emails: [{ value: 'jdoe@contoso.net', type: 'work' }] },
        { userName: `kim@${d}`, userType: 'Contractor', emails: [{ value: 'kim@example.net', type: 'home' }], ims: [{ type: 'xmpp', value: 'kim@foo.com' }] },
      ];
      for (const u of users) {
        const schemas = ['urn:ietf:params:scim:schemas:core:2.0:User', ...(enterprise in u ? [enterprise] : [])];
        const res = await scim('POST', '/Users', { schemas, ...u });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        ids[u.userName.split('@')[0]!] = res.body.id;
      }
      const admin = await scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "admin@${d}"`)}`);
      ids.admin = admin.body.Resources[0].id;
    });
    after(() => t?.close());

    const names = (resources: { id: string }[]) => resources.map((r) => Object.entries(ids).find(([, id]) => id === r.id)?.[0] ?? r.id).sort();

    test('§3.4.2.2: every filter example, with the users each one selects', async () => {
      const expected = [
        ['bjensen'], // userName eq "bjensen" (as bjensen@<initial domain>)
        ['jsmith'], // name.familyName co "O'Malley"
        ['jdoe', 'jsmith'], // userName sw "J"
        ['jdoe', 'jsmith'], // urn:…:User:userName sw "J"
        ['bjensen', 'jsmith'], // title pr
        ['admin', 'bjensen', 'jdoe', 'jsmith', 'kim'], // meta.lastModified gt 2011
        ['admin', 'bjensen', 'jdoe', 'jsmith', 'kim'], // ge
        [], // lt
        [], // le
        ['bjensen'], // title pr and userType eq "Employee"
        ['bjensen', 'jsmith'], // title pr or userType eq "Intern"
        ['bjensen'], // schemas eq enterprise
        ['bjensen'], // userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")
        ['admin', 'kim'], // userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")
        ['bjensen', 'jdoe'], // userType eq "Employee" and (emails.type eq "work")
        ['bjensen'], // userType eq "Employee" and emails[type eq "work" and value co "@example.com"]
        ['bjensen', 'kim'], // emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]
      ];
      assert.equal(examples.filters.length, expected.length);
      for (const [i, raw] of examples.filters.entries()) {
        const filter = raw.replace('"bjensen"', `"bjensen@${d}"`);
        const res = await scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
        assert.equal(res.status, 200, `${filter}: ${JSON.stringify(res.body)}`);
        assert.equal(res.headers['content-type'], 'application/scim+json');
        assert.deepEqual(names(res.body.Resources), expected[i], filter);
        assert.equal(res.body.totalResults, expected[i]!.length, filter);
        // the same filter through POST /.search
        const search = await scim('POST', '/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter, attributes: ['userName'] });
        assert.deepEqual(names(search.body.Resources), expected[i], `.search ${filter}`);
        for (const r of search.body.Resources) assert.deepEqual(Object.keys(r).sort(), ['id', 'schemas', 'userName']);
      }
    });

    test('§3.5.2: every PATCH example', async () => {
      const group = await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Tour Guides' });
      assert.equal(group.status, 201);
      const substitute = (value: unknown) => JSON.parse(JSON.stringify(value)
        .replaceAll(rfcIds.bjensen, ids.bjensen!).replaceAll(rfcIds.jsmith, ids.jsmith!).replaceAll(rfcIds.group, group.body.id)
        .replaceAll('https://example.com/v2', `${t.url}/scim/v2`));
      const memberIds = async () => ((await scim('GET', `/Groups/${group.body.id}`)).body.members ?? []).map((m: { value: string }) => m.value).sort();
      const user = async () => (await scim('GET', `/Users/${ids.bjensen}`)).body;
      const run = async (id: string) => {
        const example = examples.patch.find((e) => e.id === id)!;
        assert.ok(example, id);
        // Figure 6 shows a PatchOp body without a request line; it adds a member to a group
        const path = example.resolvedPath ?? example.assumedPath ?? example.path ?? '/Groups';
        const target = path.startsWith('/Groups') ? `/Groups/${group.body.id}` : `/Users/${ids.bjensen}`;
        const res = await scim('PATCH', target, substitute(example.body));
        assert.ok(res.status === 200 || res.status === 204, `${id}: ${res.status} ${JSON.stringify(res.body)}`);
        assert.match(String(res.headers.etag), /^W\/"\d+"$/);
        return res;
      };
      const both = [ids.bjensen!, ids.jsmith!].sort();

      await run('patch-figure6-structure');
      assert.deepEqual(await memberIds(), [ids.bjensen]);
      await run('patch-add-member-to-group'); // adding a member twice changes nothing
      assert.deepEqual(await memberIds(), [ids.bjensen]);

      const added = await run('patch-add-attributes-no-path');
      assert.equal(added.status, 200);
      assert.equal(added.body.nickName, 'Babs');
      assert.ok(added.body.emails.some((e: { value: string; type: string }) => e.value === 'babs@jensen.org' && e.type === 'home'));

      await scim('PATCH', `/Groups/${group.body.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: ids.jsmith }] }] });
      assert.deepEqual(await memberIds(), both);
      await run('patch-remove-single-member');
      assert.deepEqual(await memberIds(), [ids.jsmith]);
      await run('patch-remove-all-members');
      assert.deepEqual(await memberIds(), []);

      await run('patch-remove-complex-multivalued-value');
      assert.deepEqual((await user()).emails.map((e: { value: string }) => e.value), ['babs@jensen.org']);

      await scim('PATCH', `/Groups/${group.body.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: ids.bjensen }] }] });
      await run('patch-remove-and-add-member');
      assert.deepEqual(await memberIds(), [ids.jsmith]);
      await run('patch-replace-all-members-remove-then-add');
      assert.deepEqual(await memberIds(), both);
      await run('patch-replace-members');
      assert.deepEqual(await memberIds(), both);

      await run('patch-replace-work-address');
      const work = (await user()).addresses.find((a: { type: string }) => a.type === 'work');
      assert.equal(work.streetAddress, '911 Universal City Plaza');
      assert.equal(work.formatted, '911 Universal City Plaza\nHollywood, CA 91608 US');
      await run('patch-replace-work-street-address');
      assert.equal((await user()).addresses.find((a: { type: string }) => a.type === 'work').streetAddress, '1010 Broadway Ave');

      const replaced = await run('patch-replace-attributes-no-path');
      assert.deepEqual(replaced.body.emails, [{ value: 'bjensen@example.com', type: 'work', primary: true }, { value: 'babs@jensen.org', type: 'home' }]);
      assert.equal(replaced.body.nickName, 'Babs');
      assert.equal(examples.patch.length, 12);
    });

    test('§3.7: every Bulk example', async () => {
      const bulk = (request: unknown) => scim('POST', '/Bulk', request);
      const example = (id: string) => JSON.parse(JSON.stringify(examples.bulk.find((e) => e.id === id)!.request).replaceAll('"userName":"Alice"', `"userName":"alice@${d}"`).replaceAll('"userName":"Bob"', `"userName":"bob@${d}"`));

      // §3.7.1: two groups, each a member of the other, by bulkId
      const circular = await bulk(example('bulk-circular-reference'));
      assert.equal(circular.status, 200, JSON.stringify(circular.body));
      assert.deepEqual(circular.body.Operations.map((o: { status: string }) => o.status), ['201', '201']);
      const found = await scim('GET', `/Groups?filter=${encodeURIComponent('displayName sw "Group"')}&sortBy=displayName`);
      assert.deepEqual(found.body.Resources.map((g: { displayName: string }) => g.displayName), ['Group A', 'Group B']);
      const [a, b] = found.body.Resources as { id: string; members: { value: string; type: string }[] }[];
      assert.deepEqual(a!.members.map((m) => [m.value, m.type]), [[b!.id, 'Group']]);
      assert.deepEqual(b!.members.map((m) => [m.value, m.type]), [[a!.id, 'Group']]);

      // §3.7.2: a user, then a group holding it by bulkId
      const tour = await bulk(example('bulk-bulkid-user-and-group'));
      assert.deepEqual(tour.body.Operations.map((o: { status: string; bulkId: string }) => [o.bulkId, o.status]), [['qwerty', '201'], ['ytrewq', '201']]);
      const alice = tour.body.Operations[0].location.split('/').at(-1);
      const guides = await scim('GET', `/Groups/${tour.body.Operations[1].location.split('/').at(-1)}`);
      assert.deepEqual(guides.body.members.map((m: { value: string }) => m.value), [alice]);
      assert.match(tour.body.Operations[0].version, /^W\/"\d+"$/);

      // §3.7.2: the enterprise manager by bulkId (Alice exists now: the example's userName becomes another)
      const managerRequest = example('bulk-bulkid-enterprise-manager');
      managerRequest.Operations[0].data.userName = `alice2@${d}`;
      managerRequest.Operations[1].data.userName = `bob2@${d}`;
      const managed = await bulk(managerRequest);
      assert.deepEqual(managed.body.Operations.map((o: { status: string }) => o.status), ['201', '201']);
      const bob = await scim('GET', managed.body.Operations[1].location.replace(`${t.url}/scim/v2`, ''));
      assert.equal(bob.body[enterprise].manager.value, managed.body.Operations[0].location.split('/').at(-1));
      assert.equal(bob.body[enterprise].employeeNumber, '11250');

      // §3.7.3 as printed: its POST names a schema that does not exist, so failOnErrors 1 stops after it
      const printed = await bulk(examples.bulk.find((e) => e.id === 'bulk-failonerrors-add-update-remove')!.request);
      assert.equal(printed.status, 200);
      assert.equal(printed.body.Operations.length, 1);
      assert.equal(printed.body.Operations[0].status, '400');
      assert.equal(printed.body.Operations[0].response.scimType, 'invalidValue');
      assert.match(printed.body.Operations[0].response.detail, /urn:ietf:params:scim:api:messages:2.0:User is not a schema of User/);

      // §3.7.3 with the User schema corrected and its ids and versions standing for real users: add, replace, patch, delete
      const made: { id: string; version: string }[] = [];
      for (const n of ['bob3', 'dave3', 'gone3']) {
        const r = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `${n}@${d}`, nickName: 'x' });
        made.push({ id: r.body.id, version: r.body.meta.version });
      }
      const corrected = JSON.parse(JSON.stringify(examples.bulk.find((e) => e.id === 'bulk-failonerrors-add-update-remove')!.request)
        .replace('urn:ietf:params:scim:api:messages:2.0:User', 'urn:ietf:params:scim:schemas:core:2.0:User')
        .replace('"userName":"Alice"', `"userName":"alice3@${d}"`).replace('"userName":"Bob"', `"userName":"bob3@${d}"`)
        .replace('"value":"Dave"', `"value":"dave3@${d}"`)
        .replaceAll('b7c14771-226c-4d05-8860-134711653041', made[0]!.id).replace('W/\\"3694e05e9dff591\\"', made[0]!.version.replaceAll('"', '\\"'))
        .replaceAll('5d8d29d3-342c-4b5f-8683-a3cb6763ffcc', made[1]!.id).replace('W/\\"edac3253e2c0ef2\\"', made[1]!.version.replaceAll('"', '\\"'))
        .replaceAll('e9025315-6bea-44e1-899c-1e07454e468b', made[2]!.id).replace('W/\\"0ee8add0a938e1a\\"', made[2]!.version.replaceAll('"', '\\"')));
      const done = await bulk(corrected);
      assert.deepEqual(done.body.Operations.map((o: { method: string; status: string }) => [o.method, o.status]), [['POST', '201'], ['PUT', '200'], ['PATCH', '200'], ['DELETE', '204']], JSON.stringify(done.body));
      const dave = await scim('GET', `/Users/${made[1]!.id}`);
      assert.equal(dave.body.userName, `dave3@${d}`);
      assert.equal(dave.body.nickName, undefined);
      assert.equal((await scim('GET', `/Users/${made[2]!.id}`)).status, 404);
      // the versions were checked: replaying the same request now fails on them
      const replay = await bulk({ ...corrected, failOnErrors: undefined, Operations: corrected.Operations.slice(1, 3) });
      assert.deepEqual(replay.body.Operations.map((o: { status: string }) => o.status), ['412', '412']);

      // §3.7.4: a request over maxPayloadSize
      const big = { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [{ method: 'POST', path: '/Users', bulkId: 'x', data: { userName: `big@${d}`, displayName: 'x'.repeat(1_100_000) } }] };
      const tooLarge = await bulk(big);
      assert.equal(tooLarge.status, 413);
      assert.equal(tooLarge.body.schemas[0], 'urn:ietf:params:scim:api:messages:2.0:Error');
      assert.equal(tooLarge.body.status, '413');
      assert.match(tooLarge.body.detail, /1048576/);
    });
  });
}
