/**
 * Bad input and broken paths, against the real DC: each gives a clear error
 * naming the setting or object and the fix, and the connector space stays
 * consistent (nothing lost, nothing deleted that still exists).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Attribute, Change, type Client } from 'ldapts';
import { AdConnection } from '../../src/ad/connection.ts';
import { AdImporter } from '../../src/ad/importer.ts';
import { ConnectError } from '../../src/errors.ts';
import { ConnectorSpace } from '../../src/space/connector-space.ts';
import { adminClient, userEntry } from '../../../../scripts/test-dc/seed.ts';
import { freeLoopbackAddress } from '../../../../scripts/test-dc/test-dc.ts';
import { agentConfig, smallDc, type AgentFiles, type SmallDirectory, type TestDc } from '../helpers/ad.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

async function connectError(files: AgentFiles): Promise<ConnectError> {
  try {
    const c = await AdConnection.open(files.loaded.config.activeDirectory, files.loaded.secrets.adPassword);
    await c.close();
  } catch (err) {
    assert.ok(err instanceof ConnectError, `a ConnectError, got ${(err as Error).stack}`);
    return err;
  } finally {
    files.cleanup();
  }
  assert.fail('the connection should have failed');
}

describe('faults and bad input', () => {
  let dc: TestDc;
  let seed: SmallDirectory;
  let admin: Client;

  before(async () => {
    ({ dc, seed } = await smallDc());
    admin = await adminClient(dc);
  });
  after(async () => {
    await admin?.unbind();
    await dc?.stop();
  });

  test('an unreachable DC names the server setting', async () => {
    const ip = await freeLoopbackAddress();
    const err = await connectError(agentConfig(dc, { servers: [`ldaps://${ip}:636`], connectTimeoutSeconds: 2 }));
    assert.equal(err.code, 'ad_unreachable');
    assert.equal(err.subject, 'activeDirectory.servers[0]');
    assert.match(err.message, /connection refused/);
    assert.match(err.message, /firewall/);
  });

  test('the next DC of the list is used when the first does not answer', async () => {
    const ip = await freeLoopbackAddress();
    const files = agentConfig(dc, { servers: [`ldaps://${ip}:636`, dc.ldapsUrl] });
    const c = await AdConnection.open(files.loaded.config.activeDirectory, files.loaded.secrets.adPassword);
    assert.equal(c.url.hostname, dc.ip);
    await c.close();
    files.cleanup();
  });

  test('a wrong password names bindAs and the password file', async () => {
    const err = await connectError(agentConfig(dc, {}, { account: { bindAs: dc.connector.userPrincipalName, password: 'wrong-password' } }));
    assert.equal(err.code, 'ad_bind_failed');
    assert.equal(err.subject, 'activeDirectory.bindAs');
    assert.match(err.message, /skybridge-connect@corp\.example\.com/);
    assert.match(err.message, /ad-password/);
  });

  test('an untrusted certificate shows its fingerprint; pinning that fingerprint works', async () => {
    const err = await connectError(agentConfig(dc, { tls: { serverName: dc.hostName } }));
    assert.equal(err.code, 'ad_tls_untrusted');
    assert.equal(err.subject, 'activeDirectory.tls');
    const leaf = new X509Certificate(readFileSync(`${dc.dir}/private/tls/cert.pem`));
    const print = createHash('sha256').update(leaf.raw).digest('hex').toUpperCase().match(/../g)!.join(':');
    assert.ok(err.message.includes(print), 'the message shows the fingerprint to check on the DC');
    // Pinning the DC's certificate trusts exactly it, whatever name it was reached by.
    const files = agentConfig(dc, { tls: { fingerprint: print } });
    const c = await AdConnection.open(files.loaded.config.activeDirectory, files.loaded.secrets.adPassword);
    assert.equal(c.rootDse.dnsHostName, dc.hostName);
    await c.close();
    files.cleanup();
    const wrong = await connectError(agentConfig(dc, { tls: { fingerprint: 'ab'.repeat(32) } }));
    assert.equal(wrong.code, 'ad_tls_untrusted');
    assert.equal(wrong.subject, 'activeDirectory.tls.fingerprint');
  });

  test('a certificate for another name names tls.serverName', async () => {
    const err = await connectError(agentConfig(dc, { tls: { caFile: dc.caFile, serverName: 'other.corp.example.com' } }));
    assert.equal(err.code, 'ad_tls_untrusted');
    assert.equal(err.subject, 'activeDirectory.tls.serverName');
  });

  test('StartTLS on port 389 works; the password never travels in clear', async () => {
    const files = agentConfig(dc, { servers: [dc.ldapUrl] });
    const c = await AdConnection.open(files.loaded.config.activeDirectory, files.loaded.secrets.adPassword);
    assert.ok(c.socket && 'encrypted' in c.socket && c.socket.encrypted, 'the session runs over TLS');
    await c.close();
    files.cleanup();
  });

  test('DirSync required but refused names the right to grant; auto falls back to uSNChanged', async () => {
    const account = { bindAs: dc.reader.userPrincipalName, password: dc.reader.password };
    let files = agentConfig(dc, { changeTracking: 'dirsync' }, { account });
    let space = ConnectorSpace.open(files.loaded.config.stateDirectory);
    await assert.rejects(new AdImporter(files.loaded.config.activeDirectory, account.password, space).run(), (err: ConnectError) => {
      assert.equal(err.code, 'ad_missing_rights');
      assert.equal(err.subject, 'activeDirectory.changeTracking');
      assert.match(err.message, /Replicating Directory Changes/);
      return true;
    });
    assert.equal(space.counts().objects, 0);
    space.close();
    files.cleanup();
    files = agentConfig(dc, { changeTracking: 'auto' }, { account });
    space = ConnectorSpace.open(files.loaded.config.stateDirectory);
    const importer = new AdImporter(files.loaded.config.activeDirectory, account.password, space);
    const full = await importer.run();
    assert.equal(full.tracking, 'usn');
    // uSNChanged polling sees additions, changes and (with Show Deleted) deletions.
    const e = userEntry({ index: 7000, ou: seed.ous.sales, dnsDomain: dc.dnsDomain });
    await admin.add(e.dn, e.attributes);
    const changed = seed.users[8]!;
    await admin.modify(changed.dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: ['Polled'] }) }));
    const gone = seed.users[9]!;
    const goneGuid = space.getByDn(gone.dn)!.guid;
    await admin.del(gone.dn);
    const delta = await importer.run();
    assert.equal(delta.kind, 'delta');
    assert.equal(delta.tracking, 'usn');
    assert.equal(delta.added, 1);
    assert.ok(delta.updated >= 1);
    assert.equal(delta.deleted, 1);
    assert.ok(space.getByDn(e.dn));
    assert.equal(space.getByDn(changed.dn)!.attributes.title?.[0], 'Polled');
    assert.equal(space.get(goneGuid)!.deleted, true);
    space.close();
    files.cleanup();
  });

  test('a container that does not exist is named', async () => {
    const files = agentConfig(dc, { containers: [`OU=Nowhere,${dc.baseDn}`] });
    const space = ConnectorSpace.open(files.loaded.config.stateDirectory);
    await assert.rejects(new AdImporter(files.loaded.config.activeDirectory, files.loaded.secrets.adPassword, space).run(), (err: ConnectError) => {
      assert.equal(err.code, 'ad_container_not_found');
      assert.equal(err.subject, `OU=Nowhere,${dc.baseDn}`);
      return true;
    });
    space.close();
    files.cleanup();
  });

  test('a value over the size limit is reported by object and attribute; the object keeps its last good state', async () => {
    // (Samba refuses bytes that are not UTF-8 in text attributes at write time, so that case is proven
    // on decoded entries in attributes.test.ts; the size limit is proven here, end to end.)
    const files = agentConfig(dc);
    const space = ConnectorSpace.open(files.loaded.config.stateDirectory);
    const importer = new AdImporter(files.loaded.config.activeDirectory, files.loaded.secrets.adPassword, space);
    await importer.run();
    const big = seed.users[11]!;
    const before = space.getByDn(big.dn)!;
    // Samba enforces each attribute's rangeUpper, so the limit crossed here is the number of values.
    const phones = Array.from({ length: 5001 }, (_, i) => `+1 555 ${String(i).padStart(5, '0')}`);
    await admin.modify(big.dn, [
      new Change({ operation: 'replace', modification: new Attribute({ type: 'otherTelephone', values: phones }) }),
      new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: ['Has many phones'] }) }),
    ]);
    const delta = await importer.run();
    assert.equal(delta.problems, 1);
    const problem = space.problems().find((p) => p.dn === big.dn)!;
    assert.equal(problem.attribute, 'otherTelephone');
    assert.equal(problem.code, 'too_many_values');
    assert.ok(problem.message.startsWith(`${big.dn}: otherTelephone has 5001 values; at most 5000`), problem.message);
    assert.deepEqual(space.getByDn(big.dn)!.attributes, before.attributes, 'the last good state is kept');
    // A full import neither takes the bad value nor deletes the object.
    const full = await importer.run('full');
    assert.equal(full.deleted, 0);
    assert.equal(full.problems, 1);
    assert.equal(space.getByDn(big.dn)!.deleted, false);
    // Fixing the value in AD clears the problem.
    await admin.modify(big.dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'otherTelephone', values: phones.slice(0, 2) }) }));
    await importer.run();
    assert.equal(space.getByDn(big.dn)!.attributes.title?.[0], 'Has many phones');
    assert.equal(space.getByDn(big.dn)!.attributes.otherTelephone?.length, 2);
    assert.equal(space.problems().filter((p) => p.dn === big.dn).length, 0);
    space.close();
    files.cleanup();
  });

  describe('through a fault-injecting proxy', () => {
    let proxy: TcpProxy;
    let files: AgentFiles;
    let space: ConnectorSpace;
    let importer: AdImporter;
    before(async () => {
      proxy = await startTcpProxy({ host: dc.ip, port: 636 });
      files = agentConfig(dc, { servers: [`ldaps://127.0.0.1:${proxy.port}`], pageSize: 100, operationTimeoutSeconds: 10 });
      space = ConnectorSpace.open(files.loaded.config.stateDirectory);
      importer = new AdImporter(files.loaded.config.activeDirectory, files.loaded.secrets.adPassword, space);
    });
    after(async () => {
      space?.close();
      files?.cleanup();
      await proxy?.close();
    });

    test('a connection cut in the middle of a page loses nothing and deletes nothing', async () => {
      const first = await importer.run('full');
      const counts = space.counts();
      const seq = space.currentSeq;
      proxy.reset();
      proxy.cutAfterServerBytes(150_000);
      await assert.rejects(importer.run('full'), (err: ConnectError) => {
        assert.equal(err.code, 'ad_connection_lost');
        assert.match(err.message, /reading DC=corp/);
        return true;
      });
      assert.deepEqual(space.counts(), counts, 'nothing lost, nothing deleted');
      assert.equal([...space.changedSince(seq)].length, 0, 'no object changed');
      const again = await importer.run('delta');
      assert.equal(again.kind, 'full', 'an interrupted full import is redone');
      assert.equal(again.reason, 'the previous full import did not complete');
      assert.equal(again.deleted, 0);
      assert.equal(again.objectsRead, first.objectsRead);
      assert.deepEqual(space.counts(), counts);
    });

    test('a different DC of the domain leads to a full import, not to deletions', async () => {
      // Two DCs holding the same domain, each with its own database identity.
      const { dc: first } = await smallDc();
      const { dc: second } = await smallDc({ newInvocationId: true });
      const front = await startTcpProxy({ host: first.ip, port: 636 });
      const pair = agentConfig(first, { servers: [`ldaps://127.0.0.1:${front.port}`, second.ldapsUrl], connectTimeoutSeconds: 2 });
      const pairSpace = ConnectorSpace.open(pair.loaded.config.stateDirectory);
      try {
        const twoDcs = new AdImporter(pair.loaded.config.activeDirectory, pair.loaded.secrets.adPassword, pairSpace);
        const initial = await twoDcs.run();
        assert.equal(initial.server, `127.0.0.1:${front.port}`);
        const before = pairSpace.counts();
        front.refuse(true);
        const s = await twoDcs.run('delta');
        assert.equal(s.kind, 'full');
        assert.match(s.reason ?? '', /domain controller changed/);
        assert.equal(s.server, `${second.ip}:636`);
        assert.equal(s.deleted, 0);
        assert.equal(s.added, 0);
        assert.deepEqual(pairSpace.counts(), before);
        const next = await twoDcs.run('delta');
        assert.equal(next.kind, 'delta');
      } finally {
        pairSpace.close();
        pair.cleanup();
        await front.close();
        await Promise.all([first.stop(), second.stop()]);
      }
    });
  });
});
