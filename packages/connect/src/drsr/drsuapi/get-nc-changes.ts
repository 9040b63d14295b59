/**
 * IDL_DRSGetNCChanges (MS-DRSR 4.1.10, opnum 3): replication of a naming
 * context, or of one object (extended operations EXOP_REPL_OBJ,
 * EXOP_REPL_SECRET), from a domain controller.
 *
 *   ULONG IDL_DRSGetNCChanges(
 *     [in, ref] DRS_HANDLE hDrs,
 *     [in] DWORD dwInVersion,
 *     [in, ref, switch_is(dwInVersion)] DRS_MSG_GETCHGREQ* pmsgIn,
 *     [out, ref] DWORD* pdwOutVersion,
 *     [out, ref, switch_is(*pdwOutVersion)] DRS_MSG_GETCHGREPLY* pmsgOut);
 *
 * Requests go as version 8 (DRS_MSG_GETCHGREQ_V8, 4.1.10.2.5 in the current
 * numbering). Replies are read in versions 6 (DRS_MSG_GETCHGREPLY_V6) and 9
 * (DRS_MSG_GETCHGREPLY_V9, whose linked values carry REPLVALINF_V3); the
 * compressed versions 2 and 7, and version 1, are refused as unsupported
 * (the agent does not set DRS_EXT_GETCHG_DEFLATE or DRS_EXT_XPRESS_COMPRESS).
 *
 * The objects come as a linked list (REPLENTINFLIST, 5.163): NDR puts every
 * node's fixed part first, then the pointees from the last node back to the
 * first. The reader walks it on an explicit stack, so a reply of thousands
 * of objects costs no call-stack depth.
 */
import { NdrReader } from '../ndr/ndr-reader.ts';
import { NdrWriter } from '../ndr/ndr-writer.ts';
import { PrefixTable } from './prefix-table.ts';
import type { PrefixTableEntry } from './prefix-table.ts';
import { readDsName, readPrefixTable, readUpToDateVectorV2, readUsnVector, writeDsName, writePrefixTable, writeUpToDateVectorV1, writeUsnVector, zeroUsnVector } from './structures.ts';
import type { DsName, DsNameInput, UpToDateCursorV1, UpToDateCursorV2, UsnVector } from './structures.ts';
import { unsupportedReply } from './unsupported-reply.ts';

/** The fields of DRS_MSG_GETCHGREQ_V8 (MS-DRSR 4.1.10.2.5). */
export interface GetNcChangesRequest {
  /** uuidDsaObjDest: the client's DSA GUID (for a non-DC client, any GUID it uses consistently). */
  uuidDsaObjDest: Buffer;
  /** uuidInvocIdSrc: the invocation id of the server, as last seen; the NULL GUID is fine on a first call. */
  uuidInvocIdSrc: Buffer;
  /** pNC: the naming context (or, for EXOP_REPL_OBJ / EXOP_REPL_SECRET, the object) by GUID and/or DN. */
  nc: DsNameInput;
  /** usnvecFrom: the watermark from the previous reply's usnvecTo; zero for a full replication. */
  usnvecFrom?: UsnVector;
  /** pUpToDateVecDest: cursors of what the client has already seen; null or absent for none. */
  upToDateVecDest?: readonly UpToDateCursorV1[] | null;
  /** ulFlags: DRS_* options (MS-DRSR 5.41). */
  ulFlags: number;
  /** cMaxObjects: the most objects wanted in one reply. */
  cMaxObjects: number;
  /** cMaxBytes: the most bytes wanted in one reply (0 lets the server choose). */
  cMaxBytes: number;
  /** ulExtendedOp: EXOP_* (0, EXOP_NONE, for normal replication). */
  ulExtendedOp?: number;
  /** liFsmoInfo: for FSMO operations; 0 otherwise. */
  liFsmoInfo?: bigint;
  /** pPartialAttrSet: the ATTRTYPs wanted (under prefixTableDest); null or absent for all. */
  partialAttrSet?: readonly number[] | null;
  /** pPartialAttrSetEx: ATTRTYPs wanted in addition; null or absent for none. */
  partialAttrSetEx?: readonly number[] | null;
  /** PrefixTableDest: the table the ATTRTYPs above were made with; empty if absent. */
  prefixTableDest?: PrefixTable | readonly PrefixTableEntry[] | null;
}

/** PROPERTY_META_DATA_EXT (MS-DRSR 5.156 in the current numbering): the stamp of an attribute's last originating write. */
export interface PropertyMetaData {
  dwVersion: number;
  /** DSTIME: seconds since 1601-01-01. */
  timeChanged: bigint;
  uuidDsaOriginating: Buffer;
  usnOriginating: bigint;
}

export interface ReplicatedAttribute {
  /** The ATTRTYP as sent. */
  attid: number;
  /** The OID of the attribute through the reply's prefix table; undefined when it does not map (an msDS-IntId). */
  oid: string | undefined;
  /** The values, as the bytes of the ATTRVALs (secret attributes still encrypted). */
  values: Buffer[];
}

/** One object of a reply: ENTINF of a REPLENTINFLIST node (MS-DRSR 5.53, 5.163). */
export interface ReplicatedObject {
  dn: string;
  guid: Buffer;
  /** Empty when the object has no SID. */
  sid: Buffer;
  /** ENTINF.ulFlags (ENTINF_FROM_MASTER …). */
  ulFlags: number;
  fIsNCPrefix: boolean;
  /** pParentGuid, null when not sent. */
  parentGuid: Buffer | null;
  attributes: ReplicatedAttribute[];
  /** pMetaDataExt: one stamp per attribute, in the same order; null when not sent. */
  metaData: PropertyMetaData[] | null;
}

/** A linked value (REPLVALINF_V1 / REPLVALINF_V3, MS-DRSR 5.167, 5.168). */
export interface LinkedValue {
  object: DsName | null;
  attid: number;
  oid: string | undefined;
  value: Buffer;
  fIsPresent: boolean;
  timeCreated: bigint;
  metaData: PropertyMetaData;
  /** Only in version 9 replies (VALUE_META_DATA_EXT_V3). */
  timeExpired?: bigint;
}

export interface GetNcChangesReply {
  /** The reply version read: 6 or 9. */
  version: 6 | 9;
  uuidDsaObjSrc: Buffer;
  uuidInvocIdSrc: Buffer;
  nc: DsName | null;
  usnvecFrom: UsnVector;
  /** The watermark to send as usnvecFrom in the next request. */
  usnvecTo: UsnVector;
  upToDateVecSrc: { dwVersion: number; cursors: UpToDateCursorV2[] } | null;
  /** PrefixTableSrc: the table the ATTRTYPs of this reply are made with. */
  prefixTableSrc: PrefixTable;
  /** EXOP_ERR_* of an extended operation. */
  ulExtendedRet: number;
  cNumObjects: number;
  cNumBytes: number;
  objects: ReplicatedObject[];
  /** Whether to call again (with usnvecTo) for more. */
  fMoreData: boolean;
  cNumNcSizeObjects: number;
  cNumNcSizeValues: number;
  linkedValues: LinkedValue[];
  dwDRSError: number;
}

export interface GetNcChangesResponse {
  reply: GetNcChangesReply;
  /** The return value: 0 on success, else a Windows error code. */
  status: number;
}

/** The NDR stub of an IDL_DRSGetNCChanges request, version 8. */
export function encodeDrsGetNcChangesRequest(handle: Buffer, request: GetNcChangesRequest): Buffer {
  const w = new NdrWriter();
  writeDrsGetNcChangesRequest(w, handle, request);
  return w.finish();
}

/** Writes the IDL_DRSGetNCChanges request parameters (version 8) to `w`. */
export function writeDrsGetNcChangesRequest(w: NdrWriter, handle: Buffer, request: GetNcChangesRequest): void {
  const table = request.prefixTableDest ?? [];
  const entries = table instanceof PrefixTable ? table.entries : table;
  w.contextHandle(handle);
  w.u32(8); // dwInVersion
  w.topLevel(() => {
    w.u32(8); // the union's discriminant
    w.align(8); // DRS_MSG_GETCHGREQ_V8 holds hypers
    w.guid(request.uuidDsaObjDest).guid(request.uuidInvocIdSrc);
    w.pointer(request.nc, writeDsName);
    writeUsnVector(w, request.usnvecFrom ?? zeroUsnVector());
    w.pointer(request.upToDateVecDest, writeUpToDateVectorV1);
    w.u32(request.ulFlags >>> 0).u32(request.cMaxObjects).u32(request.cMaxBytes).u32(request.ulExtendedOp ?? 0);
    w.u64(request.liFsmoInfo ?? 0n);
    w.pointer(request.partialAttrSet, writePartialAttrVector);
    w.pointer(request.partialAttrSetEx, writePartialAttrVector);
    writePrefixTable(w, entries);
  });
}

/**
 * PARTIAL_ATTR_VECTOR_V1_EXT (MS-DRSR 5.147 in the current numbering):
 * maximum count, dwVersion 1, dwReserved1, cAttrs (1 to 1048576), the ATTRTYPs.
 */
function writePartialAttrVector(w: NdrWriter, attrTyps: readonly number[]): void {
  if (attrTyps.length < 1 || attrTyps.length > 1048576) throw new RangeError(`a partial attribute set holds 1 to 1048576 ATTRTYPs, not ${attrTyps.length}`);
  w.conformance(attrTyps.length).align(4);
  w.u32(1).u32(0).u32(attrTyps.length);
  for (const a of attrTyps) w.u32(a);
}

/**
 * A partial attribute set for the OIDs given and the table to send with it
 * (by default the table of NewPrefixTable, extended as needed).
 */
export function partialAttributeSet(oids: readonly string[], table: PrefixTable = PrefixTable.initial()): { attrTyps: number[]; prefixTable: PrefixTable } {
  return { attrTyps: oids.map((oid) => table.attrTypOf(oid)), prefixTable: table };
}

/** The values of an object's attribute by OID, or undefined when the reply did not carry it. */
export function attributeValues(object: ReplicatedObject, oid: string): Buffer[] | undefined {
  return object.attributes.find((a) => a.oid === oid)?.values;
}

/** Decodes the NDR stub of an IDL_DRSGetNCChanges response (reply version 6 or 9). */
export function decodeDrsGetNcChangesResponse(stub: Buffer): GetNcChangesResponse {
  const r = new NdrReader(stub, 'IDL_DRSGetNCChanges reply');
  const version = r.u32('pdwOutVersion');
  const read: { reply?: GetNcChangesReply; prefixEntries: PrefixTableEntry[] } = { prefixEntries: [] };
  r.topLevel(() => {
    const tag = r.u32('pmsgOut (discriminant)');
    if (tag !== version) throw r.malformed('pmsgOut', `is version ${tag} where pdwOutVersion says ${version}`);
    if (tag !== 6 && tag !== 9) throw unsupportedReply('IDL_DRSGetNCChanges', tag);
    read.reply = readReplyV6OrV9(r, tag, (entries) => {
      read.prefixEntries = entries;
    });
  });
  const status = r.u32('return value');
  const out = read.reply;
  if (out === undefined) throw new Error('unreachable: the reply was read above');
  // every pointee is in: resolve the attribute ids through the reply's own prefix table
  out.prefixTableSrc = new PrefixTable(read.prefixEntries);
  for (const o of out.objects) for (const a of o.attributes) a.oid = out.prefixTableSrc.tryOidOf(a.attid);
  for (const v of out.linkedValues) v.oid = out.prefixTableSrc.tryOidOf(v.attid);
  return { reply: out, status };
}

/** DRS_MSG_GETCHGREPLY_V6 / _V9 (MS-DRSR 4.1.10.2.11, 4.1.10.2.14 in the current numbering); they differ in rgValues. */
function readReplyV6OrV9(r: NdrReader, version: 6 | 9, setPrefixEntries: (entries: PrefixTableEntry[]) => void): GetNcChangesReply {
  const at = `pmsgOut.V${version}`;
  r.align(8, at);
  const uuidDsaObjSrc = r.guid(`${at}.uuidDsaObjSrc`);
  const uuidInvocIdSrc = r.guid(`${at}.uuidInvocIdSrc`);
  const reply: GetNcChangesReply = {
    version,
    uuidDsaObjSrc,
    uuidInvocIdSrc,
    nc: null,
    usnvecFrom: zeroUsnVector(),
    usnvecTo: zeroUsnVector(),
    upToDateVecSrc: null,
    prefixTableSrc: new PrefixTable(),
    ulExtendedRet: 0,
    cNumObjects: 0,
    cNumBytes: 0,
    objects: [],
    fMoreData: false,
    cNumNcSizeObjects: 0,
    cNumNcSizeValues: 0,
    linkedValues: [],
    dwDRSError: 0,
  };
  r.pointer(`${at}.pNC`, () => {
    reply.nc = readDsName(r, `${at}.pNC`);
  });
  reply.usnvecFrom = readUsnVector(r, `${at}.usnvecFrom`);
  reply.usnvecTo = readUsnVector(r, `${at}.usnvecTo`);
  r.pointer(`${at}.pUpToDateVecSrc`, () => {
    reply.upToDateVecSrc = readUpToDateVectorV2(r, `${at}.pUpToDateVecSrc`);
  });
  setPrefixEntries(readPrefixTable(r, `${at}.PrefixTableSrc`));
  reply.ulExtendedRet = r.u32(`${at}.ulExtendedRet`);
  reply.cNumObjects = r.u32(`${at}.cNumObjects`);
  reply.cNumBytes = r.u32(`${at}.cNumBytes`);
  r.pointer(`${at}.pObjects`, () => readEntInfListNode(r, reply.objects, 0));
  reply.fMoreData = r.bool(`${at}.fMoreData`);
  reply.cNumNcSizeObjects = r.u32(`${at}.cNumNcSizeObjects`);
  reply.cNumNcSizeValues = r.u32(`${at}.cNumNcSizeValues`);
  const cNumValues = r.checkCount(r.u32(`${at}.cNumValues`), 0, `${at}.cNumValues`, 1048576);
  const present = r.pointer(`${at}.rgValues`, () => {
    const size = version === 6 ? 72 : 96;
    const max = r.conformance(size, `${at}.rgValues`, 1048576);
    if (max !== cNumValues) throw r.malformed(`${at}.rgValues`, `holds ${max} values where cNumValues is ${cNumValues}`);
    for (let i = 0; i < max; i++) reply.linkedValues.push(readReplValInf(r, version, `${at}.rgValues[${i}]`));
  });
  if (!present && cNumValues !== 0) throw r.malformed(`${at}.rgValues`, `is NULL where cNumValues is ${cNumValues}`);
  reply.dwDRSError = r.u32(`${at}.dwDRSError`);
  return reply;
}

/**
 * The fixed part of one REPLENTINFLIST node (MS-DRSR 5.163): pNextEntInf,
 * Entinf { pName, ulFlags, AttrBlock { attrCount, pAttr } }, fIsNCPrefix,
 * pParentGuid, pMetaDataExt. Its pointees are read later; the next node's
 * first, as NDR orders them.
 */
function readEntInfListNode(r: NdrReader, objects: ReplicatedObject[], index: number): void {
  const at = `pObjects[${index}]`;
  const object: ReplicatedObject = { dn: '', guid: Buffer.alloc(16), sid: Buffer.alloc(0), ulFlags: 0, fIsNCPrefix: false, parentGuid: null, attributes: [], metaData: null };
  objects.push(object);
  r.pointer(`${at}.pNextEntInf`, () => readEntInfListNode(r, objects, index + 1));
  const named = r.pointer(`${at}.Entinf.pName`, () => {
    const name = readDsName(r, `${at}.Entinf.pName`);
    object.dn = name.dn;
    object.guid = name.guid;
    object.sid = name.sid;
  });
  if (!named) throw r.malformed(`${at}.Entinf.pName`, 'is NULL; a replicated object has a name');
  object.ulFlags = r.u32(`${at}.Entinf.ulFlags`);
  const attrCount = r.checkCount(r.u32(`${at}.Entinf.AttrBlock.attrCount`), 0, `${at}.Entinf.AttrBlock.attrCount`, 1048576);
  const hasAttrs = r.pointer(`${at}.Entinf.AttrBlock.pAttr`, () => readAttrs(r, object.attributes, attrCount, `${at}.Entinf.AttrBlock.pAttr`));
  if (!hasAttrs && attrCount !== 0) throw r.malformed(`${at}.Entinf.AttrBlock.pAttr`, `is NULL where attrCount is ${attrCount}`);
  object.fIsNCPrefix = r.bool(`${at}.fIsNCPrefix`);
  r.pointer(`${at}.pParentGuid`, () => {
    object.parentGuid = r.guid(`${at}.pParentGuid`);
  });
  r.pointer(`${at}.pMetaDataExt`, () => {
    const max = r.conformance(40, `${at}.pMetaDataExt.rgMetaData`, 1048576);
    r.align(8, `${at}.pMetaDataExt`);
    const count = r.u32(`${at}.pMetaDataExt.cNumProps`);
    if (count !== max) throw r.malformed(`${at}.pMetaDataExt.cNumProps`, `is ${count} but the array holds ${max}`);
    const list: PropertyMetaData[] = [];
    for (let i = 0; i < max; i++) list.push(readPropertyMetaData(r, `${at}.pMetaDataExt.rgMetaData[${i}]`));
    object.metaData = list;
  });
}

/** ATTR[attrCount] (MS-DRSR 5.9): attrTyp and AttrVal { valCount, pAVal → ATTRVAL[] { valLen, pVal → bytes } }. */
function readAttrs(r: NdrReader, into: ReplicatedAttribute[], attrCount: number, at: string): void {
  const max = r.conformance(12, at, 1048576);
  if (max !== attrCount) throw r.malformed(at, `holds ${max} attributes where attrCount is ${attrCount}`);
  for (let i = 0; i < max; i++) {
    const attid = r.u32(`${at}[${i}].attrTyp`);
    const valCount = r.checkCount(r.u32(`${at}[${i}].AttrVal.valCount`), 0, `${at}[${i}].AttrVal.valCount`, 10485760);
    const attribute: ReplicatedAttribute = { attid, oid: undefined, values: [] };
    into.push(attribute);
    const present = r.pointer(`${at}[${i}].AttrVal.pAVal`, () => {
      const vat = `${at}[${i}].AttrVal.pAVal`;
      const n = r.conformance(8, vat, 10485760);
      if (n !== valCount) throw r.malformed(vat, `holds ${n} values where valCount is ${valCount}`);
      for (let j = 0; j < n; j++) {
        const valLen = r.checkCount(r.u32(`${vat}[${j}].valLen`), 0, `${vat}[${j}].valLen`, 26214400);
        const slot = attribute.values.length;
        attribute.values.push(Buffer.alloc(0));
        const hasValue = r.pointer(`${vat}[${j}].pVal`, () => {
          const len = r.conformance(1, `${vat}[${j}].pVal`, 26214400);
          if (len !== valLen) throw r.malformed(`${vat}[${j}].pVal`, `holds ${len} bytes where valLen is ${valLen}`);
          attribute.values[slot] = r.bytes(len, `${vat}[${j}].pVal`);
        });
        if (!hasValue && valLen !== 0) throw r.malformed(`${vat}[${j}].pVal`, `is NULL where valLen is ${valLen}`);
      }
    });
    if (!present && valCount !== 0) throw r.malformed(`${at}[${i}].AttrVal.pAVal`, `is NULL where valCount is ${valCount}`);
  }
}

/** PROPERTY_META_DATA_EXT: dwVersion, timeChanged, uuidDsaOriginating, usnOriginating; aligned to 8. */
function readPropertyMetaData(r: NdrReader, at: string): PropertyMetaData {
  r.align(8, at);
  return {
    dwVersion: r.u32(`${at}.dwVersion`),
    timeChanged: r.i64(`${at}.timeChanged`),
    uuidDsaOriginating: r.guid(`${at}.uuidDsaOriginating`),
    usnOriginating: r.i64(`${at}.usnOriginating`),
  };
}

/**
 * REPLVALINF_V1 (version 6) or REPLVALINF_V3 (version 9): pObject, attrTyp,
 * Aval { valLen, pVal }, fIsPresent, then VALUE_META_DATA_EXT_V1 { timeCreated,
 * MetaData } or _V3 (the same, three unused longs and timeExpired).
 */
function readReplValInf(r: NdrReader, version: 6 | 9, at: string): LinkedValue {
  r.align(8, at);
  const value: LinkedValue = {
    object: null,
    attid: 0,
    oid: undefined,
    value: Buffer.alloc(0),
    fIsPresent: false,
    timeCreated: 0n,
    metaData: { dwVersion: 0, timeChanged: 0n, uuidDsaOriginating: Buffer.alloc(16), usnOriginating: 0n },
  };
  r.pointer(`${at}.pObject`, () => {
    value.object = readDsName(r, `${at}.pObject`);
  });
  value.attid = r.u32(`${at}.attrTyp`);
  const valLen = r.checkCount(r.u32(`${at}.Aval.valLen`), 0, `${at}.Aval.valLen`, 26214400);
  const hasValue = r.pointer(`${at}.Aval.pVal`, () => {
    const len = r.conformance(1, `${at}.Aval.pVal`, 26214400);
    if (len !== valLen) throw r.malformed(`${at}.Aval.pVal`, `holds ${len} bytes where valLen is ${valLen}`);
    value.value = r.bytes(len, `${at}.Aval.pVal`);
  });
  if (!hasValue && valLen !== 0) throw r.malformed(`${at}.Aval.pVal`, `is NULL where valLen is ${valLen}`);
  value.fIsPresent = r.bool(`${at}.fIsPresent`);
  r.align(8, `${at}.MetaData`);
  value.timeCreated = r.i64(`${at}.MetaData.timeCreated`);
  value.metaData = readPropertyMetaData(r, `${at}.MetaData.MetaData`);
  if (version === 9) {
    r.u32(`${at}.MetaData.unused1`);
    r.u32(`${at}.MetaData.unused2`);
    r.u32(`${at}.MetaData.unused3`);
    value.timeExpired = r.i64(`${at}.MetaData.timeExpired`);
  }
  return value;
}
