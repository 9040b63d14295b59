/**
 * The drsuapi message codecs against impacket (Debian python3-impacket) as an
 * independent oracle: requests are built by both and compared byte for byte
 * (referent ids and alignment gaps, which NDR leaves open, aside); replies
 * are built and marshalled by impacket's NDR engine and decoded by ours.
 * Then hostile input: every truncation of a real reply, absurd counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { ConnectError } from '../../src/errors.ts';
import { NdrWriter } from '../../src/drsr/ndr/ndr-writer.ts';
import { guidFromString, guidToString } from '../../src/drsr/ndr/guid.ts';
import * as C from '../../src/drsr/drsuapi/constants.ts';
import { decodeDrsBindResponse, writeDrsBindRequest, encodeDrsBindRequest } from '../../src/drsr/drsuapi/bind.ts';
import { decodeDrsUnbindResponse, encodeDrsUnbindRequest } from '../../src/drsr/drsuapi/unbind.ts';
import { decodeDrsCrackNamesResponse, writeDrsCrackNamesRequest } from '../../src/drsr/drsuapi/crack-names.ts';
import { attributeValues, decodeDrsGetNcChangesResponse, partialAttributeSet, writeDrsGetNcChangesRequest } from '../../src/drsr/drsuapi/get-nc-changes.ts';
import { ATTRIBUTE_OID, PrefixTable, berDecodeOid, berEncodeOid } from '../../src/drsr/drsuapi/prefix-table.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Python run with impacket; every NDR referent id impacket draws is 0x4b4b, so its pointers are easy to find. */
const PRELUDE = `
import random, json, sys
random.randint = lambda a, b: 0x4B4B
from impacket.dcerpc.v5 import drsuapi, ndr
from impacket.dcerpc.v5.dtypes import NULL, DWORD, LPWSTR
def dsname(guid, sid, dn):
    d = drsuapi.DSNAME()
    d['SidLen'] = len(sid); d['Guid'] = guid; d['Sid'] = sid
    d['NameLen'] = len(dn); d['StringName'] = dn + '\\x00'
    d['structLen'] = 0; d['structLen'] = len(d.getData())  # as impacket's secretsdump sizes it: the marshalled DSNAME, maximum count included
    return d
def handle(h):
    x = drsuapi.DRS_HANDLE(); x['Data'] = h; return x
def attrtyp(v):
    a = drsuapi.ATTRTYP(); a['Data'] = v; return a
def prefix_entry(ndx, prefix):
    e = drsuapi.PrefixTableEntry(); e['ndx'] = ndx; e['prefix']['length'] = len(prefix); e['prefix']['elements'] = list(prefix); return e
def attr(typ, values):
    a = drsuapi.ATTR(); a['attrTyp'] = typ
    a['AttrVal']['valCount'] = len(values)
    if not values: a['AttrVal']['pAVal'] = NULL
    for v in values:
        av = drsuapi.ATTRVAL(); av['valLen'] = len(v)
        if v: av['pVal'] = list(v)
        else: av['pVal'] = NULL
        a['AttrVal']['pAVal'].append(av)
    return a
def link(n, nxt):
    if nxt is None: n['pNextEntInf'] = NULL
    else:
        p = drsuapi.PREPLENTINFLIST(); p.fields['Data'] = nxt; n.fields['pNextEntInf'] = p
def meta(version, time, dsa, usn):
    m = drsuapi.PROPERTY_META_DATA_EXT(); m['dwVersion'] = version; m['timeChanged'] = time; m['uuidDsaOriginating'] = dsa; m['usnOriginating'] = usn; return m
def node(guid, sid, dn, attrs, parent=None, nxt=None, metas=None, flags=1, prefix=0):
    n = drsuapi.REPLENTINFLIST()
    link(n, nxt)
    n['Entinf']['pName'] = dsname(guid, sid, dn)
    n['Entinf']['ulFlags'] = flags
    n['Entinf']['AttrBlock']['attrCount'] = len(attrs)
    if not attrs: n['Entinf']['AttrBlock']['pAttr'] = NULL
    for a in attrs: n['Entinf']['AttrBlock']['pAttr'].append(a)
    n['fIsNCPrefix'] = prefix
    if parent is None: n['pParentGuidm'] = NULL
    else: n['pParentGuidm'] = parent
    if metas is None: n['pMetaDataExt'] = NULL
    else:
        n['pMetaDataExt']['cNumProps'] = len(metas)
        for m in metas: n['pMetaDataExt']['rgMetaData'].append(m)
    return n
`;

/** DRSR_DUMP_PY=1 keeps each script as /tmp/py-N.py, to rerun one that fails. */
let dumped = 0;
function python(script: string): string {
  if (process.env.DRSR_DUMP_PY) writeFileSync(`/tmp/py-${++dumped}.py`, PRELUDE + script);
  return execFileSync('/usr/bin/python3', ['-c', PRELUDE + script], { encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
}

/**
 * Our bytes equal impacket's, except where NDR fixes no value: alignment
 * gaps (impacket fills them with 0xaa, 0xbf …, we with zeros) and referent
 * ids (impacket's are all 0x4b4b here; the positions must be the same).
 */
function assertSameNdr(w: NdrWriter, theirsHex: string, what: string): void {
  const ours = w.finish();
  const theirs = Buffer.from(theirsHex, 'hex');
  assert.equal(ours.length, theirs.length, `${what}: length (ours ${hex(ours)}, impacket ${theirsHex})`);
  const skip = new Uint8Array(ours.length);
  for (const [a, b] of w.gaps) skip.fill(1, a, b);
  for (const off of w.referentOffsets) {
    assert.equal(theirs.readUInt32LE(off), 0x4b4b, `${what}: impacket has a pointer at ${off} too`);
    skip.fill(1, off, off + 4);
  }
  for (let i = 0; i < ours.length; i++) {
    if (!skip[i] && ours[i] !== theirs[i]) assert.fail(`${what}: byte ${i} is ${ours[i]} in ours, ${theirs[i]} in impacket's\nours     ${hex(ours)}\nimpacket ${theirsHex}`);
  }
}

const HANDLE = Buffer.from('00000000' + '5f0a3c2b1d4e6f708192a3b4c5d6e7f8', 'hex');
const DSA = guidFromString('6f1d2c3b-4a59-4687-9a1b-2c3d4e5f6071');
const INVOC = guidFromString('0e0d0c0b-0a09-4807-8605-040302010000');

test('the constants are those impacket defines', () => {
  const theirs = JSON.parse(python(`
names = [n for n in dir(drsuapi) if n.startswith(('DRS_EXT_', 'DRS_', 'EXOP_', 'DS_'))]
print(json.dumps({n: getattr(drsuapi, n) for n in names if isinstance(getattr(drsuapi, n), int)}))`)) as Record<string, number>;
  const ours = C as unknown as Record<string, unknown>;
  let compared = 0;
  for (const [name, value] of Object.entries(theirs)) {
    if (!(name in ours) || name === 'DRS_EXT_GETCHGREPLY_V9') continue; // impacket lists that dwFlagsExt bit among the dwFlags
    assert.equal(ours[name], value, name);
    compared++;
  }
  assert.ok(compared > 60, `compared ${compared}`);
  assert.equal(C.DRS_EXT_GETCHGREPLY_V9, theirs.DRS_EXT_GETCHGREPLY_V9);
  assert.equal(C.DS_UNIQUE_ID_NAME, 6);
  assert.equal(C.DS_NT4_ACCOUNT_NAME_SANS_DOMAIN, 0xfffffff9);
  assert.equal(C.DRS_EXT_DCINFO_V01, theirs.DRS_EXT_DCINFO_VFFFFFFFF);
  assert.equal(C.DRS_EXT_GETCHGREPLY_V7, 0x08000000);
  assert.deepEqual([C.OPNUM_DRS_BIND, C.OPNUM_DRS_UNBIND, C.OPNUM_DRS_GET_NC_CHANGES, C.OPNUM_DRS_CRACK_NAMES], [0, 1, 3, 12]);
  const ids = JSON.parse(python(`
from impacket.uuid import bin_to_uuidtup
print(json.dumps([bin_to_uuidtup(drsuapi.MSRPC_UUID_DRSUAPI), {str(k): v[0].opnum for k, v in drsuapi.OPNUMS.items()}]))`)) as [[string, string], Record<string, number>];
  assert.deepEqual(ids[0], [C.DRSUAPI_INTERFACE_UUID.toUpperCase(), '4.0']);
  assert.deepEqual(ids[1]['0'], 0);
  assert.deepEqual(guidToString(guidFromString(C.NTDSAPI_CLIENT_GUID)), C.NTDSAPI_CLIENT_GUID);
});

test('IDL_DRSBind request: the bytes impacket marshals', () => {
  const flags = C.DRS_EXT_GETCHGREQ_V6 | C.DRS_EXT_GETCHGREPLY_V6 | C.DRS_EXT_GETCHGREQ_V8 | C.DRS_EXT_STRONG_ENCRYPTION | C.DRS_EXT_BASE;
  const w = new NdrWriter();
  writeDrsBindRequest(w, {
    clientDsaGuid: guidFromString(C.NTDSAPI_CLIENT_GUID),
    extensions: { dwFlags: flags, pid: 4242, dwReplEpoch: 3, dwFlagsExt: C.DRS_EXT_RECYCLE_BIN, configObjGuid: DSA, dwExtCaps: 0xffffffff },
  });
  const theirs = python(`
r = drsuapi.DRSBind()
r['puuidClientDsa'] = drsuapi.NTDSAPI_CLIENT_GUID
e = drsuapi.DRS_EXTENSIONS_INT()
e['dwFlags'] = ${flags}; e['SiteObjGuid'] = drsuapi.NULLGUID; e['Pid'] = 4242; e['dwReplEpoch'] = 3
e['dwFlagsExt'] = drsuapi.DRS_EXT_RECYCLE_BIN; e['ConfigObjGUID'] = bytes.fromhex('${hex(DSA)}'); e['dwExtCaps'] = 0xffffffff
r['pextClient']['cb'] = len(e)
r['pextClient']['rgb'] = list(e.getData())
print(r.getData().hex())`);
  assertSameNdr(w, theirs, 'IDL_DRSBind');
  assert.equal(w.finish().readUInt32LE(24), 52, 'cb counts dwFlags through dwExtCaps');
  // the 48-byte form leaves dwExtCaps out; NULL pointers are 0
  assert.equal(encodeDrsBindRequest({ clientDsaGuid: null, extensions: { dwFlags: 1, dwExtCaps: null } }).readUInt32LE(8), 48);
  assert.equal(hex(encodeDrsBindRequest({ clientDsaGuid: null, extensions: null })), '0000000000000000');
});

test('IDL_DRSUnbind request and reply', () => {
  const theirs = python(`
r = drsuapi.DRSUnbind(); r['phDrs'] = handle(bytes.fromhex('${hex(HANDLE)}'))
print(r.getData().hex())
o = drsuapi.DRSUnbindResponse(); o['phDrs'] = handle(b'\\x00' * 20); o['ErrorCode'] = 0
print(o.getData().hex())`).split('\n');
  assert.equal(hex(encodeDrsUnbindRequest(HANDLE)), theirs[0]);
  assert.deepEqual(decodeDrsUnbindResponse(Buffer.from(theirs[1] as string, 'hex')), { handle: Buffer.alloc(20), status: 0 });
  assert.throws(() => encodeDrsUnbindRequest(Buffer.alloc(16)), RangeError);
});

test('IDL_DRSCrackNames request: the bytes impacket marshals', () => {
  const names = ['CONTOSO\\alice', 'bob@contoso.example', 'Zoë Ångström,OU=Ünits'];
  const w = new NdrWriter();
  writeDrsCrackNamesRequest(w, HANDLE, { formatOffered: C.DS_NT4_ACCOUNT_NAME, formatDesired: C.DS_FQDN_1779_NAME, names, flags: C.DS_NAME_FLAG_GCVERIFY });
  const theirs = python(`
r = drsuapi.DRSCrackNames()
r['hDrs'] = handle(bytes.fromhex('${hex(HANDLE)}'))
r['dwInVersion'] = 1
r['pmsgIn']['tag'] = 1
v = r['pmsgIn']['V1']
v['CodePage'] = 0; v['LocaleId'] = 0; v['dwFlags'] = drsuapi.DS_NAME_FLAG_GCVERIFY
v['formatOffered'] = drsuapi.DS_NAME_FORMAT.DS_NT4_ACCOUNT_NAME; v['formatDesired'] = drsuapi.DS_NAME_FORMAT.DS_FQDN_1779_NAME
names = json.loads(sys.argv[1] if len(sys.argv) > 1 else ${JSON.stringify(JSON.stringify(names))})
v['cNames'] = len(names)
for n in names:
    s = LPWSTR(); s['Data'] = n + '\\x00'; v['rpNames'].append(s)
print(r.getData().hex())`);
  assertSameNdr(w, theirs, 'IDL_DRSCrackNames');
});

/** The Python that starts an impacket DRSGetNCChanges V8 request: handle, version, DSA and invocation ids, pNC, usnvecFrom. */
const getNcChangesV8 = (dsa: Buffer, invocation: Buffer, pNC: string, usn: [bigint, bigint, bigint]) => `
r = drsuapi.DRSGetNCChanges()
r['hDrs'] = handle(bytes.fromhex('${hex(HANDLE)}'))
r['dwInVersion'] = 8
r['pmsgIn']['tag'] = 8
v = r['pmsgIn']['V8']
v['uuidDsaObjDest'] = bytes.fromhex('${hex(dsa)}'); v['uuidInvocIdSrc'] = bytes.fromhex('${hex(invocation)}')
v['pNC'] = ${pNC}
v['usnvecFrom']['usnHighObjUpdate'] = ${usn[0]}; v['usnvecFrom']['usnReserved'] = ${usn[1]}; v['usnvecFrom']['usnHighPropUpdate'] = ${usn[2]}`;

test('IDL_DRSGetNCChanges request, EXOP_REPL_OBJ for one object by GUID: the bytes impacket marshals', () => {
  const oids = [ATTRIBUTE_OID.userPrincipalName, ATTRIBUTE_OID.sAMAccountName, ATTRIBUTE_OID.unicodePwd, ATTRIBUTE_OID.dBCSPwd, ATTRIBUTE_OID.ntPwdHistory, ATTRIBUTE_OID.lmPwdHistory, ATTRIBUTE_OID.supplementalCredentials, ATTRIBUTE_OID.objectSid, ATTRIBUTE_OID.pwdLastSet, ATTRIBUTE_OID.userAccountControl, ATTRIBUTE_OID.objectClass];
  const { attrTyps, prefixTable } = partialAttributeSet(oids, new PrefixTable());
  const user = guidFromString('11223344-5566-4778-899a-abbccddeeff0');
  const w = new NdrWriter();
  writeDrsGetNcChangesRequest(w, HANDLE, {
    uuidDsaObjDest: DSA, uuidInvocIdSrc: DSA, nc: { guid: user },
    ulFlags: C.DRS_INIT_SYNC | C.DRS_WRIT_REP, cMaxObjects: 1, cMaxBytes: 0, ulExtendedOp: C.EXOP_REPL_OBJ,
    partialAttrSet: attrTyps, prefixTableDest: prefixTable,
  });
  const out = python(`${getNcChangesV8(DSA, DSA, `dsname(bytes.fromhex('${hex(user)}'), b'', '')`, [0n, 0n, 0n])}
v['pUpToDateVecDest'] = NULL
v['ulFlags'] = drsuapi.DRS_INIT_SYNC | drsuapi.DRS_WRIT_REP
v['cMaxObjects'] = 1; v['cMaxBytes'] = 0; v['ulExtendedOp'] = drsuapi.EXOP_REPL_OBJ; v['liFsmoInfo']['QuadPart'] = 0
table = []
pas = drsuapi.PARTIAL_ATTR_VECTOR_V1_EXT(); pas['dwVersion'] = 1; pas['dwReserved1'] = 0
oids = ${JSON.stringify(oids)}
pas['cAttrs'] = len(oids)
typs = []
for oid in oids:
    t = drsuapi.MakeAttid(table, oid); typs.append(t['Data']); pas['rgPartialAttr'].append(t)
v['pPartialAttrSet'] = pas
v['pPartialAttrSetEx1'] = NULL
v['PrefixTableDest']['PrefixCount'] = len(table)
v['PrefixTableDest']['pPrefixEntry'] = table
print(json.dumps(typs))
print(r.getData().hex())`).split('\n');
  assert.deepEqual(attrTyps, JSON.parse(out[0] as string), 'MakeAttid as impacket does it, on an empty table');
  assertSameNdr(w, out[1] as string, 'IDL_DRSGetNCChanges (EXOP_REPL_OBJ)');
});

test('IDL_DRSGetNCChanges request, the domain NC from a watermark with cursors and a partial attribute set: the bytes impacket marshals', () => {
  const table = PrefixTable.initial();
  const pas = [ATTRIBUTE_OID.objectGUID, ATTRIBUTE_OID.objectSid, ATTRIBUTE_OID.unicodePwd, ATTRIBUTE_OID.ntPwdHistory, ATTRIBUTE_OID.supplementalCredentials, ATTRIBUTE_OID.isDeleted, ATTRIBUTE_OID.objectClass, '1.2.840.113556.1.4.7000.102.50765', '1.2.250.16386'].map((o) => table.attrTypOf(o));
  const sid = Buffer.from('010400000000000515000000a1b2c3d4e5f60718293a4b5c', 'hex');
  const flags = C.DRS_INIT_SYNC | C.DRS_WRIT_REP | C.DRS_NEVER_SYNCED | C.DRS_FULL_SYNC_NOW | C.DRS_SYNC_URGENT | C.DRS_GET_ANC;
  const cursors = [{ uuidDsa: DSA, usnHighPropUpdate: 123456789012n }, { uuidDsa: INVOC, usnHighPropUpdate: 42n }];
  const w = new NdrWriter();
  writeDrsGetNcChangesRequest(w, HANDLE, {
    uuidDsaObjDest: DSA, uuidInvocIdSrc: INVOC, nc: { dn: 'DC=contoso,DC=example', sid, guid: INVOC },
    usnvecFrom: { usnHighObjUpdate: 0x1234567890n, usnReserved: 0n, usnHighPropUpdate: 0x1234567891n },
    upToDateVecDest: cursors, ulFlags: flags, cMaxObjects: 1000, cMaxBytes: 10485760, liFsmoInfo: 0x0102030405060708n,
    partialAttrSet: pas, partialAttrSetEx: [table.attrTypOf(ATTRIBUTE_OID.pwdLastSet)], prefixTableDest: table,
  });
  const entries = table.entries.map((e) => [e.ndx, hex(e.prefix)]);
  const theirs = python(`${getNcChangesV8(DSA, INVOC, `dsname(bytes.fromhex('${hex(INVOC)}'), bytes.fromhex('${hex(sid)}'), 'DC=contoso,DC=example')`, [0x1234567890n, 0n, 0x1234567891n])}
u = drsuapi.UPTODATE_VECTOR_V1_EXT(); u['dwVersion'] = 1; u['dwReserved1'] = 0; u['cNumCursors'] = 2; u['dwReserved2'] = 0
for g, usn in [('${hex(DSA)}', 123456789012), ('${hex(INVOC)}', 42)]:
    c = drsuapi.UPTODATE_CURSOR_V1(); c['uuidDsa'] = bytes.fromhex(g); c['usnHighPropUpdate'] = usn; u['rgCursors'].append(c)
v['pUpToDateVecDest'] = u
v['ulFlags'] = ${flags}
v['cMaxObjects'] = 1000; v['cMaxBytes'] = 10485760; v['ulExtendedOp'] = 0; v['liFsmoInfo']['QuadPart'] = 0x0102030405060708
def pav(typs):
    p = drsuapi.PARTIAL_ATTR_VECTOR_V1_EXT(); p['dwVersion'] = 1; p['dwReserved1'] = 0; p['cAttrs'] = len(typs)
    for t in typs: p['rgPartialAttr'].append(attrtyp(t))
    return p
v['pPartialAttrSet'] = pav(${JSON.stringify(pas)})
v['pPartialAttrSetEx1'] = pav([${table.attrTypOf(ATTRIBUTE_OID.pwdLastSet)}])
entries = ${JSON.stringify(entries)}
v['PrefixTableDest']['PrefixCount'] = len(entries)
v['PrefixTableDest']['pPrefixEntry'] = [prefix_entry(n, bytes.fromhex(p)) for n, p in entries]
print(r.getData().hex())`);
  assertSameNdr(w, theirs, 'IDL_DRSGetNCChanges (watermark)');
});

test('IDL_DRSBind reply marshalled by impacket: the server extensions, handle and status', () => {
  const stubs = python(`
for cb in (52, 28):
    o = drsuapi.DRSBindResponse()
    e = drsuapi.DRS_EXTENSIONS_INT()
    e['dwFlags'] = 0x1fffff7f; e['SiteObjGuid'] = bytes.fromhex('${hex(DSA)}'); e['Pid'] = 0xfffffff9; e['dwReplEpoch'] = 5
    e['dwFlagsExt'] = drsuapi.DRS_EXT_RECYCLE_BIN | drsuapi.DRS_EXT_LH_BETA2; e['ConfigObjGUID'] = bytes.fromhex('${hex(INVOC)}'); e['dwExtCaps'] = 0x3f
    o['ppextServer']['cb'] = cb
    o['ppextServer']['rgb'] = list(e.getData()[:cb])
    o['phDrs'] = handle(bytes.fromhex('${hex(HANDLE)}'))
    o['ErrorCode'] = 0
    print(o.getData().hex())`).split('\n');
  const full = decodeDrsBindResponse(Buffer.from(stubs[0] as string, 'hex'));
  assert.equal(full.status, 0);
  assert.deepEqual(full.handle, HANDLE);
  const ext = full.serverExtensions;
  assert.ok(ext);
  assert.equal(ext.cb, 52);
  assert.equal(ext.dwFlags, 0x1fffff7f);
  assert.deepEqual(ext.siteObjGuid, DSA);
  assert.equal(ext.pid, -7);
  assert.equal(ext.dwReplEpoch, 5);
  assert.equal(ext.dwFlagsExt, C.DRS_EXT_RECYCLE_BIN | C.DRS_EXT_LH_BETA2);
  assert.deepEqual(ext.configObjGuid, INVOC);
  assert.equal(ext.dwExtCaps, 0x3f);
  const short = decodeDrsBindResponse(Buffer.from(stubs[1] as string, 'hex')).serverExtensions;
  assert.ok(short);
  assert.deepEqual([short.cb, short.dwReplEpoch, short.dwFlagsExt, short.configObjGuid, short.dwExtCaps], [28, 5, undefined, undefined, undefined]);
});

test('IDL_DRSCrackNames reply marshalled by impacket', () => {
  const stub = python(`
o = drsuapi.DRSCrackNamesResponse()
o['pdwOutVersion'] = 1
o['pmsgOut']['tag'] = 1
res = o['pmsgOut']['V1']['pResult']
items = [(0, 'contoso.example', 'CN=Alice,OU=Staff,DC=contoso,DC=example'), (2, None, None), (0, 'contoso.example', '{11223344-5566-4778-899a-abbccddeeff0}')]
res['cItems'] = len(items)
for st, dom, name in items:
    it = drsuapi.DS_NAME_RESULT_ITEMW(); it['status'] = st
    if dom is None: it['pDomain'] = NULL
    else: it['pDomain'] = dom + '\\x00'
    if name is None: it['pName'] = NULL
    else: it['pName'] = name + '\\x00'
    res['rItems'].append(it)
o['ErrorCode'] = 0
print(o.getData().hex())`);
  const reply = decodeDrsCrackNamesResponse(Buffer.from(stub, 'hex'));
  assert.deepEqual(reply, {
    status: 0,
    items: [
      { status: C.DS_NAME_NO_ERROR, dnsDomainName: 'contoso.example', name: 'CN=Alice,OU=Staff,DC=contoso,DC=example' },
      { status: C.DS_NAME_ERROR_NOT_FOUND, dnsDomainName: null, name: null },
      { status: 0, dnsDomainName: 'contoso.example', name: '{11223344-5566-4778-899a-abbccddeeff0}' },
    ],
  });
});

/** A version 6 reply of three users, marshalled by impacket. */
function v6ReplyStub(): string {
  return python(`
table = [(0, '5504'), (9, '2a864886f7140104'), (2, '2a864886f7140102'), (0x1b86, '2a817a')]
n3 = node(b'\\x03'*16, b'', 'CN=Carol,CN=Users,DC=contoso,DC=example', [attr(0x90001, [b'Carol']), attr(0x1b860005, [b'x'*300])], flags=0)
n2 = node(b'\\x02'*16, bytes.fromhex('010500000000000515000000a1b2c3d4e5f60718293a4b5c53040000'), 'CN=Bob,CN=Users,DC=contoso,DC=example',
          [attr(0x90092, [bytes.fromhex('010500000000000515000000a1b2c3d4e5f60718293a4b5c53040000')]), attr(0x9005a, [b'\\xaa'*36]), attr(0x9005e, [b'\\xbb'*36, b'\\xcc'*36, b'\\xdd'*20]), attr(0x20030, [])], nxt=n3,
          metas=[meta(1, 13300000000, b'\\x07'*16, 4100), meta(3, 13300000001, b'\\x08'*16, 4101), meta(2, 13300000002, b'\\x07'*16, 4102), meta(1, 13300000003, b'\\x07'*16, 4103)])
n1 = node(b'\\x01'*16, b'', 'CN=Alice,CN=Users,DC=contoso,DC=example', [attr(0x0, [b'top\\x00', b'person\\x00', b'user\\x00']), attr(0x90008, [b'\\x00\\x02\\x00\\x00']), attr(0x900dd, ['alice'.encode('utf-16-le')])],
          parent=b'\\x09'*16, nxt=n2)
resp = drsuapi.DRSGetNCChangesResponse()
resp['pdwOutVersion'] = 6
resp['pmsgOut']['tag'] = 6
v6 = resp['pmsgOut']['V6']
v6['uuidDsaObjSrc'] = bytes.fromhex('${hex(DSA)}'); v6['uuidInvocIdSrc'] = bytes.fromhex('${hex(INVOC)}')
v6['pNC'] = dsname(b'\\x33'*16, bytes.fromhex('010400000000000515000000a1b2c3d4e5f60718293a4b5c'), 'DC=contoso,DC=example')
v6['usnvecFrom']['usnHighObjUpdate'] = 100; v6['usnvecFrom']['usnReserved'] = 0; v6['usnvecFrom']['usnHighPropUpdate'] = 101
v6['usnvecTo']['usnHighObjUpdate'] = 5000000000; v6['usnvecTo']['usnReserved'] = 0; v6['usnvecTo']['usnHighPropUpdate'] = 5000000001
u = v6['pUpToDateVecSrc']; u['dwVersion'] = 2; u['dwReserved1'] = 0; u['cNumCursors'] = 2; u['dwReserved2'] = 0
for g, usn, t in [(b'\\x07'*16, 4200, 13300000100), (b'\\x08'*16, 77, 13300000200)]:
    c = drsuapi.UPTODATE_CURSOR_V2(); c['uuidDsa'] = g; c['usnHighPropUpdate'] = usn; c['timeLastSyncSuccess'] = t; u['rgCursors'].append(c)
v6['PrefixTableSrc']['PrefixCount'] = len(table)
v6['PrefixTableSrc']['pPrefixEntry'] = [prefix_entry(n, bytes.fromhex(p)) for n, p in table]
v6['ulExtendedRet'] = 0
v6['cNumObjects'] = 3; v6['cNumBytes'] = 4242
v6['pObjects'] = n1
v6['fMoreData'] = 1
v6['cNumNcSizeObjectsc'] = 12; v6['cNumNcSizeValues'] = 34
v6['cNumValues'] = 0; v6['rgValues'] = 0
v6['dwDRSError'] = 0
resp['ErrorCode'] = 0
print(resp.getData().hex())`);
}

test('IDL_DRSGetNCChanges version 6 reply marshalled by impacket: objects, attributes through the reply\'s prefix table, cursors, watermark', () => {
  const stub = Buffer.from(v6ReplyStub(), 'hex');
  const { reply, status } = decodeDrsGetNcChangesResponse(stub);
  assert.equal(status, 0);
  assert.equal(reply.version, 6);
  assert.deepEqual(reply.uuidDsaObjSrc, DSA);
  assert.deepEqual(reply.uuidInvocIdSrc, INVOC);
  assert.equal(reply.nc?.dn, 'DC=contoso,DC=example');
  assert.equal(hex(reply.nc?.sid ?? Buffer.alloc(0)), '010400000000000515000000a1b2c3d4e5f60718293a4b5c');
  assert.deepEqual(reply.usnvecFrom, { usnHighObjUpdate: 100n, usnReserved: 0n, usnHighPropUpdate: 101n });
  assert.deepEqual(reply.usnvecTo, { usnHighObjUpdate: 5000000000n, usnReserved: 0n, usnHighPropUpdate: 5000000001n });
  assert.deepEqual(reply.upToDateVecSrc, {
    dwVersion: 2,
    cursors: [
      { uuidDsa: Buffer.alloc(16, 7), usnHighPropUpdate: 4200n, timeLastSyncSuccess: 13300000100n },
      { uuidDsa: Buffer.alloc(16, 8), usnHighPropUpdate: 77n, timeLastSyncSuccess: 13300000200n },
    ],
  });
  assert.deepEqual(reply.prefixTableSrc.entries.map((e) => [e.ndx, hex(e.prefix)]), [[0, '5504'], [9, '2a864886f7140104'], [2, '2a864886f7140102'], [0x1b86, '2a817a']]);
  assert.deepEqual([reply.ulExtendedRet, reply.cNumObjects, reply.cNumBytes, reply.fMoreData, reply.cNumNcSizeObjects, reply.cNumNcSizeValues, reply.dwDRSError], [0, 3, 4242, true, 12, 34, 0]);
  assert.deepEqual(reply.linkedValues, []);
  assert.deepEqual(reply.objects.map((o) => o.dn), ['CN=Alice,CN=Users,DC=contoso,DC=example', 'CN=Bob,CN=Users,DC=contoso,DC=example', 'CN=Carol,CN=Users,DC=contoso,DC=example']);
  const [alice, bob, carol] = reply.objects as [typeof reply.objects[0], typeof reply.objects[0], typeof reply.objects[0]];
  assert.deepEqual(alice.guid, Buffer.alloc(16, 1));
  assert.deepEqual(alice.parentGuid, Buffer.alloc(16, 9));
  assert.equal(alice.sid.length, 0);
  assert.equal(alice.ulFlags, 1);
  assert.deepEqual(attributeValues(alice, ATTRIBUTE_OID.objectClass), [Buffer.from('top\0'), Buffer.from('person\0'), Buffer.from('user\0')]);
  assert.deepEqual(attributeValues(alice, ATTRIBUTE_OID.userAccountControl), [Buffer.from('00020000', 'hex')]);
  assert.equal(attributeValues(alice, ATTRIBUTE_OID.sAMAccountName)?.[0]?.toString('utf16le'), 'alice');
  assert.equal(alice.metaData, null);
  assert.equal(hex(bob.sid), '010500000000000515000000a1b2c3d4e5f60718293a4b5c53040000');
  assert.deepEqual(attributeValues(bob, ATTRIBUTE_OID.unicodePwd), [Buffer.alloc(36, 0xaa)]);
  assert.deepEqual(attributeValues(bob, ATTRIBUTE_OID.ntPwdHistory), [Buffer.alloc(36, 0xbb), Buffer.alloc(36, 0xcc), Buffer.alloc(20, 0xdd)]);
  assert.deepEqual(attributeValues(bob, ATTRIBUTE_OID.isDeleted), []);
  assert.deepEqual(bob.metaData?.map((m) => [m.dwVersion, m.timeChanged, m.uuidDsaOriginating[0], m.usnOriginating]), [[1, 13300000000n, 7, 4100n], [3, 13300000001n, 8, 4101n], [2, 13300000002n, 7, 4102n], [1, 13300000003n, 7, 4103n]]);
  assert.equal(carol.ulFlags, 0);
  assert.deepEqual(carol.attributes.map((a) => [a.attid, a.oid]), [[0x90001, ATTRIBUTE_OID.name], [0x1b860005, '1.2.250.5']]);
  assert.deepEqual(attributeValues(carol, '1.2.250.5'), [Buffer.alloc(300, 'x')]);
});

test('attribute ids are read through the reply\'s own prefix table, never a fixed one', () => {
  // the same reply with the table's indices 9 and 2 swapped: the OIDs follow the table
  const stub = v6ReplyStub().replace('09000000080000004b4b0000', '0a000000080000004b4b0000');
  const { reply } = decodeDrsGetNcChangesResponse(Buffer.from(stub, 'hex'));
  assert.equal(reply.prefixTableSrc.entries[1]?.ndx, 10);
  const bob = reply.objects[1];
  assert.ok(bob);
  assert.equal(bob.attributes[1]?.attid, 0x9005a);
  assert.equal(bob.attributes[1]?.oid, undefined, 'no entry 9 in this table');
  assert.equal(attributeValues(bob, ATTRIBUTE_OID.unicodePwd), undefined);
});

test('IDL_DRSGetNCChanges version 6 and 9 replies with linked values (rgValues, as impacket marshals REPLVALINF_V1 / _V3)', () => {
  const out = python(`
class V6L(ndr.NDRSTRUCT):
    structure = tuple((n, drsuapi.PREPLVALINF_V1_ARRAY if n == 'rgValues' else t) for n, t in drsuapi.DRS_MSG_GETCHGREPLY_V6.structure)
class V9L(ndr.NDRSTRUCT):
    structure = tuple((n, drsuapi.PREPLVALINF_V3_ARRAY if n == 'rgValues' else t) for n, t in drsuapi.DRS_MSG_GETCHGREPLY_V9.structure)
class U(ndr.NDRUNION):
    commonHdr = (('tag', DWORD),)
    union = {6: ('V6', V6L), 9: ('V9', V9L)}
class R(ndr.NDRCALL):
    structure = (('pdwOutVersion', DWORD), ('pmsgOut', U), ('ErrorCode', DWORD))
for ver in (6, 9):
    o = R(); o['pdwOutVersion'] = ver; o['pmsgOut']['tag'] = ver
    v = o['pmsgOut']['V%d' % ver]
    v['uuidDsaObjSrc'] = b'\\x11'*16; v['uuidInvocIdSrc'] = b'\\x22'*16
    v['pNC'] = NULL; v['pUpToDateVecSrc'] = NULL
    v['PrefixTableSrc']['PrefixCount'] = 1; v['PrefixTableSrc']['pPrefixEntry'] = [prefix_entry(0, bytes.fromhex('5504'))]
    v['pObjects'] = node(b'\\x05'*16, b'', 'CN=Group', [attr(0x3, [b'g'])])
    v['cNumObjects'] = 1; v['fMoreData'] = 0; v['ulExtendedRet'] = 0; v['cNumBytes'] = 0; v['cNumNcSizeObjectsc'] = 0; v['cNumNcSizeValues'] = 0
    vals = [(b'\\x06'*16, 'CN=Member1', 31, b'', 1), (b'\\x07'*16, 'CN=Member2', 31, b'\\x01\\x02', 0)]
    v['cNumValues'] = len(vals)
    for g, dn, typ, val, present in vals:
        x = (drsuapi.REPLVALINF_V1 if ver == 6 else drsuapi.REPLVALINF_V3)()
        x['pObject'] = dsname(g, b'', dn); x['attrTyp'] = typ
        x['Aval']['valLen'] = len(val)
        if val: x['Aval']['pVal'] = list(val)
        else: x['Aval']['pVal'] = NULL
        x['fIsPresent'] = present
        x['MetaData']['timeCreated'] = 13300000000 + present
        x['MetaData']['MetaData'] = meta(2, 13300000005, b'\\x0a'*16, 9000 + present)
        if ver == 9: x['MetaData']['timeExpired'] = 13399999999; x['MetaData']['unused1'] = 0
        v['rgValues'].append(x)
    v['dwDRSError'] = 0
    o['ErrorCode'] = 0
    print(o.getData().hex())`).split('\n');
  for (const [i, version] of [[0, 6], [1, 9]] as const) {
    const { reply } = decodeDrsGetNcChangesResponse(Buffer.from(out[i] as string, 'hex'));
    assert.equal(reply.version, version);
    assert.deepEqual(reply.objects.map((o) => [o.dn, o.attributes[0]?.oid]), [['CN=Group', '2.5.4.3']]);
    assert.equal(reply.linkedValues.length, 2);
    const [a, b] = reply.linkedValues as [typeof reply.linkedValues[0], typeof reply.linkedValues[0]];
    assert.deepEqual([a.object?.dn, a.attid, a.oid, hex(a.value), a.fIsPresent, a.timeCreated, a.metaData.usnOriginating], ['CN=Member1', 31, '2.5.4.31', '', true, 13300000001n, 9001n]);
    assert.deepEqual([b.object?.dn, hex(b.value), b.fIsPresent, b.metaData.dwVersion, b.metaData.timeChanged, b.metaData.uuidDsaOriginating], ['CN=Member2', '0102', false, 2, 13300000005n, Buffer.alloc(16, 10)]);
    assert.equal(a.timeExpired, version === 9 ? 13399999999n : undefined);
  }
});

function assertMalformed(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConnectError, `${what}: threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    assert.equal(e.code, 'drsr_malformed_reply', `${what}: ${e.message}`);
    return;
  }
  assert.fail(`${what}: decoded`);
}

test('hostile input: every truncation of real replies throws drsr_malformed_reply, and nothing else', () => {
  const v6 = Buffer.from(v6ReplyStub(), 'hex');
  // the return value is the last field: a stub cut anywhere before its end is short of something
  for (let n = 0; n < v6.length; n++) assertMalformed(() => decodeDrsGetNcChangesResponse(v6.subarray(0, n)), `GetNCChanges reply cut to ${n} bytes`);
  const bind = Buffer.from(python(`
o = drsuapi.DRSBindResponse(); e = drsuapi.DRS_EXTENSIONS_INT()
o['ppextServer']['cb'] = len(e); o['ppextServer']['rgb'] = list(e.getData()); o['phDrs'] = handle(b'\\x01' * 20); o['ErrorCode'] = 0
print(o.getData().hex())`), 'hex');
  for (let n = 0; n < bind.length; n++) assertMalformed(() => decodeDrsBindResponse(bind.subarray(0, n)), `Bind reply cut to ${n} bytes`);
  const crack = Buffer.from(python(`
o = drsuapi.DRSCrackNamesResponse(); o['pdwOutVersion'] = 1; o['pmsgOut']['tag'] = 1
r = o['pmsgOut']['V1']['pResult']; r['cItems'] = 1
it = drsuapi.DS_NAME_RESULT_ITEMW(); it['status'] = 0; it['pDomain'] = 'a.example\\x00'; it['pName'] = 'CN=x\\x00'; r['rItems'].append(it)
o['ErrorCode'] = 0
print(o.getData().hex())`), 'hex');
  for (let n = 0; n < crack.length; n++) assertMalformed(() => decodeDrsCrackNamesResponse(crack.subarray(0, n)), `CrackNames reply cut to ${n} bytes`);
  for (let n = 0; n < 24; n++) assertMalformed(() => decodeDrsUnbindResponse(Buffer.alloc(n)), `Unbind reply of ${n} bytes`);
});

test('hostile input: a huge count is refused before anything is allocated; inconsistent counts and versions are refused', () => {
  const v6 = Buffer.from(v6ReplyStub(), 'hex');
  // PrefixCount is the u32 after usnvecTo and the pUpToDateVecSrc pointer; find it by its value 4 after the cursor pointer
  const withCount = (offset: number, value: number) => {
    const b = Buffer.from(v6);
    b.writeUInt32LE(value, offset);
    return b;
  };
  // DRS_MSG_GETCHGREPLY_V6 starts at 8: two GUIDs (8..40), pNC (40), usnvecFrom (48), usnvecTo (72), pUpToDateVecSrc (96), PrefixCount (100)
  assert.equal(v6.readUInt32LE(100), 4);
  const before = process.memoryUsage().arrayBuffers;
  for (const huge of [0x7fffffff, 0xffffffff, 1048577]) {
    assertMalformed(() => decodeDrsGetNcChangesResponse(withCount(100, huge)), `PrefixCount ${huge}`);
  }
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20, 'no large allocation');
  // the conformance of the prefix entry array disagreeing with PrefixCount
  assertMalformed(() => decodeDrsGetNcChangesResponse(withCount(100, 3)), 'PrefixCount 3 with 4 entries');
  // every u32 in the stub set to 0x7fffffff in turn: never anything but a clean decode or drsr_malformed_reply
  for (let off = 0; off + 4 <= v6.length; off += 4) {
    try {
      decodeDrsGetNcChangesResponse(withCount(off, 0x7fffffff));
    } catch (e) {
      assert.ok(e instanceof ConnectError && (e.code === 'drsr_malformed_reply' || e.code === 'drsr_unsupported_reply'), `u32 at ${off}: ${(e as Error).message}`);
    }
  }
  const v7 = Buffer.from(v6);
  v7.writeUInt32LE(7, 0);
  v7.writeUInt32LE(7, 4);
  assert.throws(() => decodeDrsGetNcChangesResponse(v7), (e: unknown) => e instanceof ConnectError && e.code === 'drsr_unsupported_reply');
  const mismatch = Buffer.from(v6);
  mismatch.writeUInt32LE(9, 0);
  assertMalformed(() => decodeDrsGetNcChangesResponse(mismatch), 'pdwOutVersion 9 with a version 6 union arm');
});

/** A version 6 reply of `count` objects with our writer (a list longer than a recursive decoder's stack would take). */
function longReply(count: number): Buffer {
  const w = new NdrWriter();
  w.u32(6);
  w.topLevel(() => {
    w.u32(6).align(8).guid(DSA).guid(INVOC);
    w.u32(0); // pNC
    w.align(8).i64(0).i64(0).i64(0).i64(1).i64(0).i64(2);
    w.u32(0); // pUpToDateVecSrc
    w.u32(1);
    w.pointer([1], (w) => {
      w.conformance(1).u32(9).u32(8);
      w.pointer(berEncodeOid('1.2.840.113556.1.4'), (w, p) => w.conformance(p.length).bytes(p));
    });
    w.u32(0).u32(count).u32(0);
    const node = (i: number) => (w: NdrWriter) => {
      w.pointer(i + 1 < count ? i + 1 : null, (w, next) => node(next)(w));
      w.pointer(`CN=u${i}`, (w, dn) => {
        const chars = Buffer.from(dn, 'utf16le');
        w.conformance(dn.length + 1).u32(56 + 2 * (dn.length + 1)).u32(0).guid(Buffer.alloc(16, i & 0xff)).bytes(Buffer.alloc(28)).u32(dn.length).bytes(chars).u16(0);
      });
      w.u32(0).u32(1);
      w.pointer([i], (w) => {
        w.conformance(1).u32(0x90002).u32(1);
        w.pointer([i], (w) => {
          w.conformance(1).u32(4);
          w.pointer([i], (w) => w.conformance(4).u32(i));
        });
      });
      w.u32(0).u32(0).u32(0);
    };
    w.pointer(0, (w) => node(0)(w));
    w.u32(0).u32(0).u32(0).u32(0).u32(0).u32(0);
  });
  w.u32(0);
  return w.finish();
}

test('a reply of 50000 objects decodes in order without deep recursion', () => {
  const { reply } = decodeDrsGetNcChangesResponse(longReply(50000));
  assert.equal(reply.objects.length, 50000);
  assert.equal(reply.objects[0]?.dn, 'CN=u0');
  assert.equal(reply.objects[49999]?.dn, 'CN=u49999');
  assert.equal(reply.objects[12345]?.attributes[0]?.oid, ATTRIBUTE_OID.objectGUID);
  assert.equal(reply.objects[12345]?.attributes[0]?.values[0]?.readUInt32LE(0), 12345);
  // impacket reads the same stub (a shorter one: its parser recurses per object)
  const small = longReply(5);
  const dns = python(`
r = drsuapi.DRSGetNCChangesResponse(bytes.fromhex('${hex(small)}'))
o = r['pmsgOut']['V6']['pObjects']; out = []
while o is not None and o != b'':
    out.append([o['Entinf']['pName']['StringName'][:-1], o['Entinf']['AttrBlock']['pAttr'][0]['attrTyp']])
    o = o['pNextEntInf']
print(json.dumps(out))`);
  assert.deepEqual(JSON.parse(dns), decodeDrsGetNcChangesResponse(small).reply.objects.map((o) => [o.dn, o.attributes[0]?.attid]));
});

test('ATTRTYP ↔ OID (MS-DRSR 5.16.4): NewPrefixTable, MakeAttid and OidFromAttid, as impacket and Samba compute them', () => {
  const initial = PrefixTable.initial();
  assert.equal(initial.size, 19);
  assert.deepEqual(initial.entries.slice(0, 3).map((e) => [e.ndx, hex(e.prefix)]), [[0, '5504'], [1, '5506'], [2, '2a864886f7140102']]);
  assert.equal(hex(initial.entries.find((e) => e.ndx === 23)?.prefix ?? Buffer.alloc(0)), '2a864886f7140105b658');
  // the well-known ATTRTYPs of the attributes the agent reads (as secretsdump and ntds.dit know them)
  const known: Array<[string, number]> = [
    [ATTRIBUTE_OID.objectClass, 0x0], [ATTRIBUTE_OID.objectGUID, 0x90002], [ATTRIBUTE_OID.objectSid, 0x90092], [ATTRIBUTE_OID.unicodePwd, 0x9005a],
    [ATTRIBUTE_OID.ntPwdHistory, 0x9005e], [ATTRIBUTE_OID.dBCSPwd, 0x90037], [ATTRIBUTE_OID.lmPwdHistory, 0x900a0], [ATTRIBUTE_OID.supplementalCredentials, 0x9007d],
    [ATTRIBUTE_OID.sAMAccountName, 0x900dd], [ATTRIBUTE_OID.userAccountControl, 0x90008], [ATTRIBUTE_OID.pwdLastSet, 0x90060], [ATTRIBUTE_OID.userPrincipalName, 0x90290],
    [ATTRIBUTE_OID.isDeleted, 0x20030], [ATTRIBUTE_OID.name, 0x90001], [ATTRIBUTE_OID.whenChanged, 0x20003], [ATTRIBUTE_OID.uSNChanged, 0x20078],
    // Samba's prefix map tests
    ['2.5.4.42', 0x2a], ['1.2.840.113556.1.2.281', 0x20119],
  ];
  for (const [oid, attid] of known) {
    assert.equal(initial.tryAttrTypOf(oid), attid, oid);
    assert.equal(initial.oidOf(attid), oid, `0x${attid.toString(16)}`);
  }
  // last arcs of 128 and more, and of 16384 and more (the high bit of the lower word)
  const t = new PrefixTable();
  const oids = ['1.2.840.113556.1.4.94', '2.5.6.2', '1.2.840.113556.1.2.1', '1.2.840.113556.1.3.223', '1.2.840.113556.1.5.7000.53', '1.2.250.1', '1.2.250.16386', '1.2.250.2097154', '1.2.840.113556.1.4.2058', '0.9.2342.19200300.100.1.3', '1.2.840.113556.1.4.7000.102.50765'];
  const ours = oids.map((o) => t.attrTypOf(o));
  assert.equal((ours[6] as number) & 0xffff, 0x8002);
  assert.equal((ours[7] as number) & 0xffff, 0x8002);
  assert.notEqual((ours[6] as number) >>> 16, (ours[7] as number) >>> 16, '16386 and 2097154 keep different prefixes');
  for (const [i, oid] of oids.entries()) assert.equal(t.oidOf(ours[i] as number), oid, `round trip of ${oid}`);
  const theirs = JSON.parse(python(`
table = []
oids = ${JSON.stringify(oids)}
typs = [drsuapi.MakeAttid(table, o)['Data'] for o in oids]
print(json.dumps([typs, [[e['ndx'], bytes(e['prefix']['elements']).hex()] for e in table]]))`)) as [number[], Array<[number, string]>];
  assert.deepEqual(ours, theirs[0]);
  assert.deepEqual(t.entries.map((e) => [e.ndx, hex(e.prefix)]), theirs[1]);
  // extending the initial table takes the lowest unused index (11), and a second OID under that prefix reuses it
  const ext = PrefixTable.initial();
  assert.equal(ext.attrTypOf('1.3.6.1.4.1.311.60.2.1.1') >>> 16, 11);
  assert.equal(ext.attrTypOf('1.3.6.1.4.1.311.60.2.1.2') >>> 16, 11);
  assert.equal(ext.size, 20);
  // what no table maps
  assert.equal(initial.tryOidOf(0x80000001), undefined, 'msDS-IntId values are not prefix-mapped');
  assert.equal(initial.tryOidOf(0x00630001), undefined);
  assert.throws(() => initial.oidOf(0x00630001), (e: unknown) => e instanceof ConnectError && e.code === 'drsr_malformed_reply');
  assert.throws(() => initial.attrTypOf('not.an.oid'), TypeError);
  assert.equal(berDecodeOid(berEncodeOid('2.999.3')), '2.999.3');
  assert.equal(berDecodeOid(Buffer.from([0x55, 0x84])), undefined, 'a truncated arc');
});
