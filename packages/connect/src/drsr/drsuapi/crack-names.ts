/**
 * IDL_DRSCrackNames (MS-DRSR 4.1.4, opnum 12): translates names of objects
 * from one format to another (DN, NT4 account name, UPN, GUID …).
 *
 *   ULONG IDL_DRSCrackNames(
 *     [in, ref] DRS_HANDLE hDrs,
 *     [in] DWORD dwInVersion,
 *     [in, ref, switch_is(dwInVersion)] DRS_MSG_CRACKREQ* pmsgIn,
 *     [out, ref] DWORD* pdwOutVersion,
 *     [out, ref, switch_is(*pdwOutVersion)] DRS_MSG_CRACKREPLY* pmsgOut);
 *
 * Request version 1 (DRS_MSG_CRACKREQ_V1, 4.1.4.1.2); reply version 1
 * (DRS_MSG_CRACKREPLY_V1, 4.1.4.1.7 → DS_NAME_RESULTW → DS_NAME_RESULT_ITEMW).
 */
import { NdrReader } from '../ndr/ndr-reader.ts';
import { NdrWriter } from '../ndr/ndr-writer.ts';
import { unsupportedReply } from './unsupported-reply.ts';

export interface CrackNamesRequest {
  /** DS_NAME_FORMAT (or one of the DS_LIST_… / DS_…_SANS_DOMAIN values) of `names`. */
  formatOffered: number;
  /** The format wanted. */
  formatDesired: number;
  /** The names to translate: 1 to 10000 of them. */
  names: readonly string[];
  /** DS_NAME_FLAG_… bits; 0 by default. */
  flags?: number;
  /** The character set of the client (CodePage); 0 by default. */
  codePage?: number;
  /** The locale of the client (LocaleId); 0 by default. */
  localeId?: number;
}

/** One DS_NAME_RESULT_ITEMW (MS-DRSR 4.1.4.1.4). */
export interface CrackedName {
  /** DS_NAME_ERROR: 0 (DS_NAME_NO_ERROR) when the name was translated. */
  status: number;
  /** pDomain: the DNS name of the domain the object is in, when known. */
  dnsDomainName: string | null;
  /** pName: the name in the format wanted, when translated. */
  name: string | null;
}

export interface CrackNamesResponse {
  /** The items, one per name asked, in the same order. */
  items: CrackedName[];
  /** The return value: 0 on success, else a Windows error code. */
  status: number;
}

/** The NDR stub of an IDL_DRSCrackNames request, version 1. */
export function encodeDrsCrackNamesRequest(handle: Buffer, request: CrackNamesRequest): Buffer {
  const w = new NdrWriter();
  writeDrsCrackNamesRequest(w, handle, request);
  return w.finish();
}

/** Writes the IDL_DRSCrackNames request parameters to `w`. */
export function writeDrsCrackNamesRequest(w: NdrWriter, handle: Buffer, request: CrackNamesRequest): void {
  const names = request.names;
  if (names.length < 1 || names.length > 10000) throw new RangeError(`IDL_DRSCrackNames takes 1 to 10000 names, not ${names.length}`);
  w.contextHandle(handle);
  w.u32(1); // dwInVersion
  w.topLevel(() => {
    w.u32(1); // the union's discriminant
    w.u32(request.codePage ?? 0).u32(request.localeId ?? 0).u32(request.flags ?? 0);
    w.u32(request.formatOffered >>> 0).u32(request.formatDesired >>> 0);
    w.u32(names.length);
    w.pointer(names, (w, list) => {
      w.conformance(list.length);
      for (const name of list) w.pointer(name, (w, text) => w.wideString(text));
    });
  });
}

/** Decodes the NDR stub of an IDL_DRSCrackNames response (reply version 1). */
export function decodeDrsCrackNamesResponse(stub: Buffer): CrackNamesResponse {
  const r = new NdrReader(stub, 'IDL_DRSCrackNames reply');
  const version = r.u32('pdwOutVersion');
  const items: CrackedName[] = [];
  r.topLevel(() => {
    const tag = r.u32('pmsgOut (discriminant)');
    if (tag !== version) throw r.malformed('pmsgOut', `is version ${tag} where pdwOutVersion says ${version}`);
    if (tag !== 1) throw unsupportedReply('IDL_DRSCrackNames', tag);
    r.pointer('pmsgOut.V1.pResult', () => {
      const count = r.u32('pResult.cItems');
      r.checkCount(count, 12, 'pResult.cItems');
      const present = r.pointer('pResult.rItems', () => {
        const max = r.conformance(12, 'pResult.rItems');
        if (max !== count) throw r.malformed('pResult.rItems', `holds ${max} items where cItems is ${count}`);
        for (let i = 0; i < max; i++) {
          const item: CrackedName = { status: r.u32(`rItems[${i}].status`), dnsDomainName: null, name: null };
          items.push(item);
          r.pointer(`rItems[${i}].pDomain`, () => {
            item.dnsDomainName = r.wideString(`rItems[${i}].pDomain`);
          });
          r.pointer(`rItems[${i}].pName`, () => {
            item.name = r.wideString(`rItems[${i}].pName`);
          });
        }
      });
      if (!present && count !== 0) throw r.malformed('pResult.rItems', `is NULL where cItems is ${count}`);
    });
  });
  const status = r.u32('return value');
  return { items, status };
}
