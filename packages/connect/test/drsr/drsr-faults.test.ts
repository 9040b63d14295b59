/**
 * Faults on the MS-DRSR path, against the real (Samba) DC, most through a
 * fault-injecting TCP proxy in front of its DRSUAPI port (the endpoint
 * mapper step bypassed) or of its endpoint mapper: a DC that refuses, a
 * reply cut or stalled mid-way, a flipped byte in a sealed fragment, in the
 * DCE/RPC header or in the sec_trailer, a wrong password, missing rights,
 * a damaged secret, an object the DC does not know. Each is a ConnectError
 * with its stable code (never a RangeError or TypeError, garbage data, a
 * hang or an unhandled rejection), no hash comes out of a faulted read, and
 * afterwards a fresh client reads the right hash from the DC.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DrsClient } from '../../src/drsr/drs-client.ts';
import { DrsHashSource } from '../../src/drsr/drs-hash-source.ts';
import { ntHash } from '../../src/drsr/crypto/primitives.ts';
import { DRSUAPI_INTERFACE_UUID, DRSUAPI_INTERFACE_VERSION } from '../../src/drsr/drsuapi/constants.ts';
import { attributeValues } from '../../src/drsr/drsuapi/get-nc-changes.ts';
import { ATTRIBUTE_OID } from '../../src/drsr/drsuapi/prefix-table.ts';
import { guidToString } from '../../src/drsr/ndr/guid.ts';
import type { NtlmCredentials } from '../../src/drsr/ntlm/client.ts';
import { lookupTcpPort } from '../../src/drsr/rpc/endpoint-mapper.ts';
import { PduType, PfcFlag, uuidBytes, type SyntaxId } from '../../src/drsr/rpc/pdu.ts';
import { decryptNtHash, ridOf } from '../../src/drsr/secrets/decrypt-secret.ts';
import { ConnectError } from '../../src/errors.ts';
import { grantOnRunningDc } from '../../../../scripts/test-dc/test-dc.ts';
import { smallDc, type SmallDirectory, type TestDc } from '../helpers/ad.ts';
import { startTcpProxy, type ServerFilter, type TcpProxy } from '../helpers/tcp-proxy.ts';

const DRSUAPI: SyntaxId = { uuid: uuidBytes(DRSUAPI_INTERFACE_UUID), major: DRSUAPI_INTERFACE_VERSION.major, minor: DRSUAPI_INTERFACE_VERSION.minor };
const HASH_ATTRIBUTES = [ATTRIBUTE_OID.objectSid, ATTRIBUTE_OID.unicodePwd];
/** The answer timeout of faulted clients: short, so stalls cost little, and ample for a loopback DC. */
const TIMEOUT_MS = 1500;
/**
 * Call ids on a DRSUAPI association (checked by the first test): 1 is the
 * bind (bind_ack), 2 DRSBind, 3 the first GetNCChanges, 4 the next one.
 */
const BIND_CALL = 1;
const DRS_BIND_CALL = 2;
const FIRST_READ_CALL = 3;
const SECOND_READ_CALL = 4;
/** In a response PDU: the 16-byte header, alloc_hint, p_cont_id, cancel_count, reserved; then the (sealed) stub. */
const STUB_AT = 24;

interface PduInfo {
  /** the PDU's position in the connection's server stream */
  index: number;
  type: number;
  flags: number;
  fragLength: number;
  callId: number;
}

/** What a PDU fault does: send these bytes instead, or send the first `cutAt` bytes and close, or the first `stallAt` and then nothing. */
type PduAction = Buffer | { cutAt: number } | { stallAt: number } | undefined;

interface PduFault {
  /** for TcpProxy.mangleServer: one filter (with its own state) per connection */
  make: () => ServerFilter;
  /** PDUs the fault acted on, so that no test passes without its fault having happened */
  readonly hits: number;
  /** every PDU the DC sent, as the headers say (for the layout check) */
  readonly seen: PduInfo[];
}

/**
 * A fault at the level of the DC's DCE/RPC PDUs: the filter collects whole
 * PDUs from the server's stream (by the frag_length of their original
 * header) and hands each to `act`, which leaves it alone (undefined) or
 * alters, cuts or stalls it. Bytes are only ever held back until their PDU
 * is complete, so with no action the client gets the DC's stream as is.
 */
function pduFault(act: (pdu: Buffer, info: PduInfo) => PduAction): PduFault {
  let hits = 0;
  const seen: PduInfo[] = [];
  const make = (): ServerFilter => {
    let pending: Buffer = Buffer.alloc(0);
    let index = 0;
    let stalled = false;
    return (chunk) => {
      if (stalled) return Buffer.alloc(0);
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      const out: Buffer[] = [];
      while (pending.length >= 16) {
        const fragLength = pending.readUInt16LE(8);
        if (fragLength < 16) throw new Error(`the DC sent a PDU of ${fragLength} bytes`);
        if (pending.length < fragLength) break;
        const pdu = Buffer.from(pending.subarray(0, fragLength));
        pending = pending.subarray(fragLength);
        const info: PduInfo = { index: index++, type: pdu[2]!, flags: pdu[3]!, fragLength, callId: pdu.readUInt32LE(12) };
        seen.push(info);
        const action = act(pdu, info);
        if (action === undefined) {
          out.push(pdu);
          continue;
        }
        hits += 1;
        if (Buffer.isBuffer(action)) {
          out.push(action);
        } else if ('cutAt' in action) {
          return { forward: Buffer.concat([...out, pdu.subarray(0, action.cutAt)]), close: true };
        } else {
          stalled = true;
          return Buffer.concat([...out, pdu.subarray(0, action.stallAt)]);
        }
      }
      return Buffer.concat(out);
    };
  };
  return { make, get hits() { return hits; }, seen };
}

/** A copy of `pdu` with the byte at `at` (from the end when negative) XORed with `mask`. */
function flip(pdu: Buffer, at: number, mask = 0xff): Buffer {
  const out = Buffer.from(pdu);
  const i = at < 0 ? out.length + at : at;
  out[i] = out[i]! ^ mask;
  return out;
}

/** Where the sec_trailer of a PDU with an NTLM signature starts. */
const trailerAt = (pdu: Buffer) => pdu.length - 16 - 8;

/** The first fragment of the first GetNCChanges answer (a two-fragment answer: see the layout test). */
const firstReplyFragment = (info: PduInfo) => info.callId === FIRST_READ_CALL && info.type === PduType.RESPONSE && (info.flags & PfcFlag.FIRST_FRAG) !== 0;
const lastReplyFragment = (info: PduInfo) => info.callId === FIRST_READ_CALL && info.type === PduType.RESPONSE && (info.flags & PfcFlag.LAST_FRAG) !== 0;

function asConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  assert.fail(`a ConnectError, got ${err instanceof Error ? err.stack : String(err)}`);
}

describe('MS-DRSR faults against the real DC', () => {
  let dc: TestDc;
  let seed: SmallDirectory;
  let drsPort: number;
  let proxy: TcpProxy;
  let epmProxy: TcpProxy;
  /** the password user whose hash the tests read, and its objectGUID */
  let user: { dn: string; password: string; guid: string; ntHash: Buffer };
  /** another password user, as DrsHashSource.read takes it */
  let second: { guid: string; dn: string };
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => { unhandled.push(reason); };

  const adminCredentials = (): NtlmCredentials => ({ user: dc.admin.userPrincipalName, domain: '', password: dc.admin.password });
  const connectorCredentials = (): NtlmCredentials => ({ user: dc.connector.userPrincipalName, domain: '', password: dc.connector.password });

  /** Reads the test user's hash with `client` and checks it is MD4(UTF-16LE(password)). */
  async function assertReadsHash(client: DrsClient): Promise<void> {
    const object = await client.readObject({ dn: user.dn }, HASH_ATTRIBUTES, user.dn);
    const encrypted = attributeValues(object, ATTRIBUTE_OID.unicodePwd)?.[0];
    assert.ok(encrypted, 'the reply carries unicodePwd');
    assert.deepEqual(decryptNtHash(client.sessionKey, encrypted, ridOf(object.sid, user.dn), user.dn), user.ntHash);
  }

  /**
   * Connects through the proxy with `fault` set, reads the test user's
   * hash, and returns the ConnectError that must come instead, with how
   * long it took. The faulted client is closed and its connection cut.
   */
  async function faultedRead(fault: PduFault, options: { credentials?: NtlmCredentials; timeoutMs?: number } = {}): Promise<{ err: ConnectError; ms: number }> {
    proxy.mangleServer(fault.make);
    const started = performance.now();
    let client: DrsClient | undefined;
    let outcome: unknown;
    try {
      client = await DrsClient.connect({ host: proxy.host, port: proxy.port, credentials: options.credentials ?? adminCredentials(), timeoutMs: options.timeoutMs ?? TIMEOUT_MS });
      const object = await client.readObject({ dn: user.dn }, HASH_ATTRIBUTES, user.dn);
      outcome = `a replicated object with ${object.attributes.length} attributes`;
    } catch (err) {
      outcome = err;
    } finally {
      proxy.mangleServer(null);
      proxy.cutAll();
      await client?.close();
    }
    const ms = performance.now() - started;
    assert.ok(fault.hits > 0, 'the fault was injected');
    return { err: asConnectError(outcome), ms };
  }

  const proxyName = () => `${proxy.host}:${proxy.port}`;

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    ({ dc, seed } = await smallDc());
    drsPort = await lookupTcpPort({ host: dc.ip, timeoutMs: 10_000 }, DRSUAPI, 'DRSUAPI');
    proxy = await startTcpProxy({ host: dc.ip, port: drsPort });
    epmProxy = await startTcpProxy({ host: dc.ip, port: 135 });
    const { user: seeded, password } = seed.passwordUsers[0]!;
    const client = await DrsClient.connect({ host: dc.ip, port: drsPort, credentials: adminCredentials(), timeoutMs: 10_000 });
    try {
      const object = await client.readObject({ dn: seeded.dn }, [ATTRIBUTE_OID.objectSid], seeded.dn);
      user = { dn: seeded.dn, password, guid: guidToString(object.guid), ntHash: await ntHash(password) };
      const other = seed.passwordUsers[1]!.user.dn;
      second = { guid: guidToString((await client.readObject({ dn: other }, [ATTRIBUTE_OID.objectSid], other)).guid), dn: other };
    } finally {
      await client.close();
    }
  });

  after(async () => {
    await proxy?.close();
    await epmProxy?.close();
    await dc?.stop();
    process.off('unhandledRejection', onUnhandled);
  });

  // After every fault: nothing rejected unhandled, and a fresh client, straight to the DC, reads the right hash.
  afterEach(async () => {
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
    const client = await DrsClient.connect({ host: dc.ip, port: drsPort, credentials: adminCredentials(), timeoutMs: 10_000 });
    try {
      await assertReadsHash(client);
    } finally {
      await client.close();
    }
  });

  test('unaltered, the proxy relays the DC as it is; the layout the faults aim at holds', async () => {
    const watch = pduFault(() => undefined);
    proxy.mangleServer(watch.make);
    try {
      const client = await DrsClient.connect({ host: proxy.host, port: proxy.port, credentials: adminCredentials(), timeoutMs: TIMEOUT_MS });
      try {
        await assertReadsHash(client);
        await assertReadsHash(client);
      } finally {
        await client.close();
      }
    } finally {
      proxy.mangleServer(null);
    }
    const calls = watch.seen.map((p) => `${p.type}/${p.callId}/${p.flags & (PfcFlag.FIRST_FRAG | PfcFlag.LAST_FRAG)}`);
    // bind_ack; DRSBind's answer; the first read in two fragments (every attribute: the prefix table is not known yet); the second in one; DRSUnbind's
    assert.deepEqual(calls, [
      `${PduType.BIND_ACK}/${BIND_CALL}/3`, `${PduType.RESPONSE}/${DRS_BIND_CALL}/3`,
      `${PduType.RESPONSE}/${FIRST_READ_CALL}/1`, `${PduType.RESPONSE}/${FIRST_READ_CALL}/2`,
      `${PduType.RESPONSE}/${SECOND_READ_CALL}/3`, `${PduType.RESPONSE}/5/3`,
    ]);
    assert.equal(watch.hits, 0);
  });

  test('a refused connection: ad_connection_lost when the DC closes it at once, ad_unreachable when nothing listens; each names the DC', async () => {
    proxy.refuse(true);
    try {
      const started = performance.now();
      const err = await DrsClient.connect({ host: proxy.host, port: proxy.port, credentials: adminCredentials(), timeoutMs: TIMEOUT_MS }).then(
        () => assert.fail('the connection should have been refused'), asConnectError);
      assert.equal(err.code, 'ad_connection_lost');
      assert.ok(err.message.includes(proxyName()), err.message);
      assert.ok(performance.now() - started < TIMEOUT_MS, 'at once, not by timeout');
    } finally {
      proxy.refuse(false);
    }
    // a port nobody listens on (the DC's port 1): refused by the TCP stack
    const err = await DrsClient.connect({ host: dc.ip, port: 1, credentials: adminCredentials(), timeoutMs: TIMEOUT_MS }).then(
      () => assert.fail('nothing listens there'), asConnectError);
    assert.equal(err.code, 'ad_unreachable');
    assert.ok(err.message.includes(`${dc.ip}:1`), err.message);
    assert.match(err.message, /ECONNREFUSED/);
    assert.match(err.fix ?? '', /TCP 135/);
  });

  test('a connection cut mid-answer: ad_connection_lost naming the DC, at once', async () => {
    const cases: [string, (pdu: Buffer, info: PduInfo) => PduAction][] = [
      ['inside the first fragment of a GetNCChanges answer', (_pdu, info) => (firstReplyFragment(info) ? { cutAt: 100 } : undefined)],
      ['inside its header', (_pdu, info) => (firstReplyFragment(info) ? { cutAt: 10 } : undefined)],
      ['between its two fragments', (_pdu, info) => (lastReplyFragment(info) ? { cutAt: 0 } : undefined)],
      ['one byte short of its end', (pdu, info) => (lastReplyFragment(info) ? { cutAt: pdu.length - 1 } : undefined)],
      ['inside the bind_ack', (_pdu, info) => (info.callId === BIND_CALL ? { cutAt: 40 } : undefined)],
      ['inside the answer to DRSBind', (_pdu, info) => (info.callId === DRS_BIND_CALL ? { cutAt: 60 } : undefined)],
    ];
    for (const [name, act] of cases) {
      const { err, ms } = await faultedRead(pduFault(act));
      assert.equal(err.code, 'ad_connection_lost', `${name}: ${err.message}`);
      assert.equal(err.message, `the domain controller ${proxyName()} closed the RPC connection`, name);
      assert.ok(ms < TIMEOUT_MS, `${name}: noticed at once (${ms.toFixed(0)} ms), not by timeout`);
    }
  });

  test('a cut during the second user of a batch: DrsHashSource.read rejects, no hash of the first user comes out', async () => {
    const fault = pduFault((_pdu, info) => (info.callId === SECOND_READ_CALL ? { cutAt: 200 } : undefined));
    proxy.mangleServer(fault.make);
    const source = await DrsHashSource.open({ host: proxy.host, port: proxy.port, credentials: adminCredentials(), timeoutMs: TIMEOUT_MS });
    let outcome: unknown;
    try {
      outcome = await source.read([{ guid: user.guid, dn: user.dn }, second]);
    } catch (err) {
      outcome = err;
    } finally {
      proxy.mangleServer(null);
      await source.close();
    }
    assert.equal(fault.hits, 1);
    const err = asConnectError(outcome);
    assert.equal(err.code, 'ad_connection_lost');
    assert.ok(err.message.includes(proxyName()), err.message);
  });

  test('a flipped byte inside a sealed fragment: drsr_integrity_failed, never garbage data', async () => {
    const cases: [string, (pdu: Buffer, info: PduInfo) => PduAction][] = [
      ['the first sealed stub byte', (pdu, info) => (firstReplyFragment(info) ? flip(pdu, STUB_AT) : undefined)],
      ['a byte in the middle of the first fragment', (pdu, info) => (firstReplyFragment(info) ? flip(pdu, pdu.length >> 1, 0x01) : undefined)],
      ['a byte of the second fragment (the RC4 stream runs on)', (pdu, info) => (lastReplyFragment(info) ? flip(pdu, STUB_AT + 100, 0x80) : undefined)],
      ['the last sealed byte (padding)', (pdu, info) => (lastReplyFragment(info) ? flip(pdu, trailerAt(pdu) - 1) : undefined)],
      ['the NTLM signature itself', (pdu, info) => (firstReplyFragment(info) ? flip(pdu, -1) : undefined)],
      ['the signature\'s sequence number', (pdu, info) => (firstReplyFragment(info) ? flip(pdu, -4, 0x01) : undefined)],
      ['the sealed answer to DRSBind', (pdu, info) => (info.callId === DRS_BIND_CALL ? flip(pdu, STUB_AT + 8) : undefined)],
    ];
    for (const [name, act] of cases) {
      const { err } = await faultedRead(pduFault(act));
      assert.equal(err.code, 'drsr_integrity_failed', `${name}: ${err.message}`);
      assert.match(err.message, /failed its NTLM signature check/, name);
    }
  });

  test('a flipped byte in the DCE/RPC header of an answer: a protocol or integrity error, not a RangeError', async () => {
    const header = (at: number, value: (old: number) => number) => (pdu: Buffer, info: PduInfo): PduAction => {
      if (!firstReplyFragment(info)) return undefined;
      const out = Buffer.from(pdu);
      out[at] = value(out[at]!) & 0xff;
      return out;
    };
    const u16 = (at: number, value: number) => (pdu: Buffer, info: PduInfo): PduAction => {
      if (!firstReplyFragment(info)) return undefined;
      const out = Buffer.from(pdu);
      out.writeUInt16LE(value, at);
      return out;
    };
    const cases: [string, (pdu: Buffer, info: PduInfo) => PduAction, string, RegExp][] = [
      ['version 5 → 4', header(0, () => 4), 'drsr_protocol_error', /does not speak DCE\/RPC 5\.0 \(version 4\.0\)/],
      ['type response → bind_ack', header(2, () => PduType.BIND_ACK), 'drsr_protocol_error', /answered a request with PDU type 12/],
      ['type response → shutdown', header(2, () => PduType.SHUTDOWN), 'drsr_protocol_error', /answered a request with PDU type 17/],
      // a fault is signed too: one whose signature fails is not the DC's, and its "status" would be ciphertext
      ['type response → fault', header(2, () => PduType.FAULT), 'drsr_integrity_failed', /signature check/],
      ['flags: PFC_FIRST_FRAG cleared', header(3, (f) => f & ~PfcFlag.FIRST_FRAG), 'drsr_protocol_error', /lacks PFC_FIRST_FRAG/],
      ['flags: PFC_LAST_FRAG set on the first of two (the header is signed)', header(3, (f) => f | PfcFlag.LAST_FRAG), 'drsr_integrity_failed', /signature check/],
      ['data representation big-endian', header(4, () => 0x00), 'drsr_protocol_error', /big-endian/],
      ['frag_length 8, shorter than a header', u16(8, 8), 'drsr_protocol_error', /claims a length of 8 bytes/],
      ['frag_length 20, shorter than a response header', u16(8, 20), 'drsr_protocol_error', /truncated DCE\/RPC response/],
      ['frag_length one flipped bit shorter', header(9, (b) => b ^ 0x04), 'drsr_integrity_failed', /instead of packet privacy|signature check/],
      ['auth_length 0', u16(10, 0), 'drsr_integrity_failed', /carries a 0-byte signature/],
      ['auth_length 17', u16(10, 17), 'drsr_integrity_failed', /carries a 17-byte signature/],
      ['call id 3 → 67', header(12, (b) => b ^ 0x40), 'drsr_protocol_error', /answered call 67 while call 3 was waiting/],
      ['call id high byte', header(15, (b) => b ^ 0x80), 'drsr_protocol_error', /while call 3 was waiting/],
      ['alloc_hint (signed, not checked by itself)', header(17, (b) => b ^ 0x01), 'drsr_integrity_failed', /signature check/],
    ];
    for (const [name, act, code, message] of cases) {
      const { err, ms } = await faultedRead(pduFault(act));
      assert.equal(err.code, code, `${name}: ${err.message}`);
      assert.match(err.message, message, name);
      assert.ok(ms < TIMEOUT_MS, `${name}: found at once (${ms.toFixed(0)} ms)`);
    }
  });

  test('the sec_trailer of an answer names another protection level or type: drsr_integrity_failed', async () => {
    const trailer = (offset: number, value: number) => (pdu: Buffer, info: PduInfo): PduAction => {
      if (!firstReplyFragment(info)) return undefined;
      const out = Buffer.from(pdu);
      out[trailerAt(pdu) + offset] = value;
      return out;
    };
    const cases: [string, (pdu: Buffer, info: PduInfo) => PduAction, RegExp][] = [
      ['auth type Kerberos (16) instead of NTLM (10)', trailer(0, 16), /protected at level 6 \(type 16\) instead of packet privacy/],
      ['auth type SPNEGO (9)', trailer(0, 9), /protected at level 6 \(type 9\)/],
      ['auth level integrity (5) instead of privacy (6)', trailer(1, 5), /protected at level 5 \(type 10\)/],
      ['auth level none (1)', trailer(1, 1), /protected at level 1 \(type 10\)/],
      ['pad length (the trailer is signed)', trailer(2, 7), /signature check/],
      ['auth context id (the trailer is signed)', trailer(4, 0x02), /signature check/],
    ];
    for (const [name, act, message] of cases) {
      const { err } = await faultedRead(pduFault(act));
      assert.equal(err.code, 'drsr_integrity_failed', `${name}: ${err.message}`);
      assert.match(err.message, message, name);
    }
  });

  test('every byte of an answer\'s header, trailer and signature flipped in turn: a ConnectError each time, never a result', async (t) => {
    const allowed = new Set(['drsr_protocol_error', 'drsr_integrity_failed', 'ad_timeout']);
    const codes = new Map<string, number>();
    let positions = 0;
    for (const region of ['header', 'trailer'] as const) {
      const count = region === 'header' ? STUB_AT : 8 + 16;
      for (let i = 0; i < count; i++) {
        const { err } = await faultedRead(pduFault((pdu, info) => (firstReplyFragment(info) ? flip(pdu, region === 'header' ? i : trailerAt(pdu) + i) : undefined)));
        assert.ok(allowed.has(err.code), `${region} byte ${i}: ${err.code} ${err.message}`);
        codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
        positions += 1;
      }
    }
    assert.equal(positions, STUB_AT + 24);
    t.diagnostic(`outcomes: ${JSON.stringify(Object.fromEntries(codes))}`);
    // a longer frag_length (its high byte flipped) waits for bytes that never come: that one is a timeout; the rest are found at once
    assert.equal(codes.get('ad_timeout'), 1, JSON.stringify([...codes]));
    assert.ok((codes.get('drsr_protocol_error') ?? 0) >= 5 && (codes.get('drsr_integrity_failed') ?? 0) >= 20, JSON.stringify([...codes]));
  });

  test('a DC that stalls mid-answer: ad_timeout within the configured timeout', async () => {
    const cases: [string, (pdu: Buffer, info: PduInfo) => PduAction][] = [
      ['inside the first fragment of a GetNCChanges answer', (_pdu, info) => (firstReplyFragment(info) ? { stallAt: 300 } : undefined)],
      ['between its fragments', (_pdu, info) => (lastReplyFragment(info) ? { stallAt: 0 } : undefined)],
      ['a frag_length longer than what the DC sends', (pdu, info) => (lastReplyFragment(info) ? flip(pdu, 9, 0x40) : undefined)],
    ];
    for (const [name, act] of cases) {
      const { err, ms } = await faultedRead(pduFault(act));
      assert.equal(err.code, 'ad_timeout', `${name}: ${err.message}`);
      assert.match(err.message, /did not answer call 3 within 1\.5 s/, name);
      assert.ok(ms >= TIMEOUT_MS - 50 && ms < TIMEOUT_MS + 3000, `${name}: after the configured ${TIMEOUT_MS} ms, took ${ms.toFixed(0)} ms`);
    }
    // and while connecting: a bind_ack that never comes
    const { err, ms } = await faultedRead(pduFault((_pdu, info) => (info.callId === BIND_CALL ? { stallAt: 0 } : undefined)), { timeoutMs: 500 });
    assert.equal(err.code, 'ad_timeout');
    assert.match(err.message, /did not answer the RPC bind within 0\.5 s/);
    assert.ok(ms < 500 + 3000, `took ${ms.toFixed(0)} ms`);
  });

  test('a wrong password: drsr_auth_failed whose fix names the account and password', async () => {
    const credentials = { ...adminCredentials(), password: 'not-the-password' };
    const err = await DrsClient.connect({ host: dc.ip, port: drsPort, credentials, timeoutMs: TIMEOUT_MS }).then(
      () => assert.fail('the DC should refuse a wrong password'), asConnectError);
    assert.equal(err.code, 'drsr_auth_failed');
    assert.match(err.message, /did not accept the RPC connection's NTLM authentication/);
    assert.match(err.fix ?? '', /account's name, domain and password/);
    // the same through the hash source the agent uses
    const viaSource = await DrsHashSource.open({ host: dc.ip, port: drsPort, credentials: { ...connectorCredentials(), password: 'wrong' }, timeoutMs: TIMEOUT_MS }).then(
      () => assert.fail('the DC should refuse a wrong password'), asConnectError);
    assert.equal(viaSource.code, 'drsr_auth_failed');
  });

  test('an object the DC does not know: an error for that object only, the others\' hashes read', async () => {
    const source = await DrsHashSource.open({ host: dc.ip, port: drsPort, credentials: adminCredentials(), timeoutMs: 10_000 });
    try {
      const gone = { guid: randomUUID(), dn: `CN=Gone User,${dc.baseDn}` };
      const results = await source.read([gone, { guid: user.guid, dn: user.dn }]);
      assert.equal(results.length, 2);
      const [first, second] = results;
      assert.ok(first && 'error' in first, 'the unknown object gets an error');
      assert.equal(first.guid, gone.guid);
      assert.equal(first.error.code, 'ad_container_not_found');
      assert.equal(first.error.subject, gone.dn);
      assert.ok(first.error.message.includes(gone.dn), first.error.message);
      assert.ok(second && 'ntHash' in second, 'the known user still gets its hash');
      assert.deepEqual(second.ntHash, user.ntHash);
    } finally {
      await source.close();
    }
  });

  test('a damaged secret: drsr_secret_invalid naming the object; the real value decrypts to the password\'s NT hash', async () => {
    const client = await DrsClient.connect({ host: dc.ip, port: drsPort, credentials: adminCredentials(), timeoutMs: 10_000 });
    let value: Buffer;
    let rid: number;
    let sessionKey: Buffer;
    try {
      const object = await client.readObject({ dn: user.dn }, HASH_ATTRIBUTES, user.dn);
      value = attributeValues(object, ATTRIBUTE_OID.unicodePwd)![0]!;
      rid = ridOf(object.sid, user.dn);
      sessionKey = client.sessionKey;
    } finally {
      await client.close();
    }
    // salt (16) | CRC32 (4) | encrypted hash (16)
    assert.equal(value.length, 36);
    assert.deepEqual(decryptNtHash(sessionKey, value, rid, user.dn), user.ntHash);
    const invalid = (damaged: Buffer, key = sessionKey): ConnectError => {
      try {
        decryptNtHash(key, damaged, rid, user.dn);
      } catch (err) {
        return asConnectError(err);
      }
      assert.fail('the damaged secret should have been refused');
    };
    for (let at = 0; at < value.length; at++) {
      const err = invalid(flip(value, at, 1 << (at % 8)));
      assert.equal(err.code, 'drsr_secret_invalid', `byte ${at}`);
      assert.equal(err.subject, user.dn);
      assert.equal(err.message, `the secret of ${user.dn} fails its CRC32 check (wrong session key, or altered)`, `byte ${at}`);
    }
    const short = invalid(value.subarray(0, 19));
    assert.equal(short.code, 'drsr_secret_invalid');
    assert.match(short.message, /is 19 bytes, shorter than its salt and checksum/);
    const otherKey = invalid(value, flip(sessionKey, 0));
    assert.equal(otherKey.code, 'drsr_secret_invalid');
    assert.match(otherKey.message, /fails its CRC32 check/);
  });

  test('the endpoint mapper\'s answer damaged (through a proxy in front of port 135): a ConnectError or a port, never a crash', async (t) => {
    // The endpoint mapper is unauthenticated: a changed port number cannot be detected here, only everything else.
    const outcomes = new Map<string, number>();
    let answerLength = 0;
    for (let at = 0; ; at++) {
      const fault = pduFault((pdu, info) => {
        if (info.type !== PduType.RESPONSE) return undefined;
        answerLength = pdu.length;
        return at < pdu.length ? flip(pdu, at) : undefined;
      });
      epmProxy.mangleServer(fault.make);
      let outcome: string;
      try {
        const port = await lookupTcpPort({ host: epmProxy.host, epmPort: epmProxy.port, timeoutMs: 300 }, DRSUAPI, 'DRSUAPI');
        outcome = port === drsPort ? 'the right port' : 'another port';
      } catch (err) {
        outcome = asConnectError(err).code;
      } finally {
        epmProxy.mangleServer(null);
        epmProxy.cutAll();
      }
      if (at >= answerLength) {
        assert.equal(fault.hits, 0);
        assert.equal(outcome, 'the right port', 'unaltered, the answer names the DRSUAPI port');
        break;
      }
      assert.equal(fault.hits, 1, `byte ${at}`);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      assert.ok(at < 1000, 'bounded');
    }
    assert.ok(answerLength > 100, `the ept_map answer is ${answerLength} bytes`);
    t.diagnostic(`outcomes over ${answerLength} bytes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    const allowed = new Set(['the right port', 'another port', 'drsr_protocol_error', 'ad_timeout']);
    for (const key of outcomes.keys()) assert.ok(allowed.has(key), `unexpected outcome ${key}: ${JSON.stringify([...outcomes])}`);
    assert.ok((outcomes.get('drsr_protocol_error') ?? 0) >= 10, JSON.stringify([...outcomes]));
    // and a refusing endpoint mapper
    epmProxy.refuse(true);
    try {
      const err = await DrsClient.connect({ host: epmProxy.host, epmPort: epmProxy.port, credentials: adminCredentials(), timeoutMs: TIMEOUT_MS }).then(
        () => assert.fail('the endpoint mapper refused'), asConnectError);
      assert.equal(err.code, 'ad_connection_lost');
      assert.ok(err.message.includes(`${epmProxy.host}:${epmProxy.port}`), err.message);
    } finally {
      epmProxy.refuse(false);
    }
  });

  // Last: it grants the connector a right on the shared DC.
  test('the connector without "Replicating Directory Changes All": ad_missing_rights naming that right; granted, it reads the hash', async () => {
    const client = await DrsClient.connect({ host: dc.ip, port: drsPort, credentials: connectorCredentials(), timeoutMs: 10_000 });
    try {
      const err = await client.readObject({ dn: user.dn }, HASH_ATTRIBUTES, user.dn).then(
        () => assert.fail('the DC should refuse the secret to the connector'), asConnectError);
      assert.equal(err.code, 'ad_missing_rights');
      assert.match(err.message, /Replicating Directory Changes All/);
      assert.equal(err.subject, user.dn);
      assert.match(err.fix ?? '', /Replicating Directory Changes All/);
    } finally {
      await client.close();
    }
    // through the hash source: a connection-wide error, thrown, no per-user results
    const source = await DrsHashSource.open({ host: dc.ip, port: drsPort, credentials: connectorCredentials(), timeoutMs: 10_000 });
    try {
      const err = await source.read([{ guid: user.guid, dn: user.dn }]).then(
        (results) => assert.fail(`read should throw, got ${results.length} results`), asConnectError);
      assert.equal(err.code, 'ad_missing_rights');
    } finally {
      await source.close();
    }
    await grantOnRunningDc(dc, dc.baseDn, (sid) => `(OA;;CR;1131f6ad-9c07-11d1-f79f-00c04fc2dcd2;;${sid})`);
    const granted = await DrsClient.connect({ host: dc.ip, port: drsPort, credentials: connectorCredentials(), timeoutMs: 10_000 });
    try {
      await assertReadsHash(granted);
    } finally {
      await granted.close();
    }
  });
});
