/**
 * IDL_DRSBind (MS-DRSR 4.1.3, opnum 0): the client's identity and
 * capabilities in, the server's capabilities and a DRS_HANDLE out.
 *
 *   ULONG IDL_DRSBind(
 *     [in] handle_t rpc_handle,
 *     [in, unique] UUID* puuidClientDsa,
 *     [in, unique] DRS_EXTENSIONS* pextClient,
 *     [out] DRS_EXTENSIONS** ppextServer,
 *     [out, ref] DRS_HANDLE* phDrs);
 *
 * DRS_EXTENSIONS (5.38) is { cb; [size_is(cb)] BYTE rgb[] }; its bytes are a
 * DRS_EXTENSIONS_INT (5.39) less the cb field: dwFlags, SiteObjGuid, Pid,
 * dwReplEpoch, dwFlagsExt, ConfigObjGUID, dwExtCaps. cb counts dwFlags
 * through dwExtCaps, 52 bytes; older peers send fewer fields (cb 24, 28, 48).
 */
import { NdrReader } from '../ndr/ndr-reader.ts';
import { NdrWriter } from '../ndr/ndr-writer.ts';

/** The DRS_EXTENSIONS_INT fields a client sends; unset ones are 0 or the NULL GUID. */
export interface DrsExtensionsInput {
  dwFlags: number;
  siteObjGuid?: Buffer;
  pid?: number;
  dwReplEpoch?: number;
  dwFlagsExt?: number;
  configObjGuid?: Buffer;
  /** Sent (cb 52) unless null, which sends the 48-byte form without it. */
  dwExtCaps?: number | null;
}

/** DRS_EXTENSIONS_INT as received: a field is undefined when cb stops before it. */
export interface DrsExtensions {
  /** The count of bytes received (DRS_EXTENSIONS.cb). */
  cb: number;
  dwFlags: number | undefined;
  siteObjGuid: Buffer | undefined;
  pid: number | undefined;
  dwReplEpoch: number | undefined;
  dwFlagsExt: number | undefined;
  configObjGuid: Buffer | undefined;
  dwExtCaps: number | undefined;
  /** The bytes as received, for fields this agent does not know yet. */
  raw: Buffer;
}

export interface DrsBindRequest {
  /** puuidClientDsa: NTDSAPI_CLIENT_GUID for a client that is not a DC; null sends a NULL pointer. */
  clientDsaGuid: Buffer | null;
  /** pextClient; null sends a NULL pointer. */
  extensions: DrsExtensionsInput | null;
}

export interface DrsBindResponse {
  /** ppextServer, null when the server sent none. */
  serverExtensions: DrsExtensions | null;
  /** phDrs: the 20-byte context handle for the calls that follow. */
  handle: Buffer;
  /** The return value: 0 on success, else a Windows error code. */
  status: number;
}

/** The rgb bytes of DRS_EXTENSIONS_INT (MS-DRSR 5.39) without its cb. */
export function encodeDrsExtensionsInt(ext: DrsExtensionsInput): Buffer {
  const withCaps = ext.dwExtCaps !== null;
  const out = Buffer.alloc(withCaps ? 52 : 48);
  out.writeUInt32LE(ext.dwFlags >>> 0, 0);
  guidOrNull(ext.siteObjGuid, 'SiteObjGuid').copy(out, 4);
  out.writeInt32LE(ext.pid ?? 0, 20);
  out.writeUInt32LE((ext.dwReplEpoch ?? 0) >>> 0, 24);
  out.writeUInt32LE((ext.dwFlagsExt ?? 0) >>> 0, 28);
  guidOrNull(ext.configObjGuid, 'ConfigObjGUID').copy(out, 32);
  if (withCaps) out.writeUInt32LE((ext.dwExtCaps ?? 0) >>> 0, 48);
  return out;
}

/** The fields of DRS_EXTENSIONS_INT that cb covers (MS-DRSR 5.39). */
export function decodeDrsExtensionsInt(rgb: Buffer): DrsExtensions {
  const has = (end: number) => rgb.length >= end;
  return {
    cb: rgb.length,
    dwFlags: has(4) ? rgb.readUInt32LE(0) : undefined,
    siteObjGuid: has(20) ? Buffer.from(rgb.subarray(4, 20)) : undefined,
    pid: has(24) ? rgb.readInt32LE(20) : undefined,
    dwReplEpoch: has(28) ? rgb.readUInt32LE(24) : undefined,
    dwFlagsExt: has(32) ? rgb.readUInt32LE(28) : undefined,
    configObjGuid: has(48) ? Buffer.from(rgb.subarray(32, 48)) : undefined,
    dwExtCaps: has(52) ? rgb.readUInt32LE(48) : undefined,
    raw: Buffer.from(rgb),
  };
}

/** The NDR stub of an IDL_DRSBind request. */
export function encodeDrsBindRequest(request: DrsBindRequest): Buffer {
  const w = new NdrWriter();
  writeDrsBindRequest(w, request);
  return w.finish();
}

/** Writes the IDL_DRSBind request parameters to `w` (for tests that look at where pointers and gaps went). */
export function writeDrsBindRequest(w: NdrWriter, request: DrsBindRequest): void {
  w.topLevelPointer(request.clientDsaGuid, (w, guid) => w.guid(guid));
  w.topLevelPointer(request.extensions, (w, ext) => {
    const rgb = encodeDrsExtensionsInt(ext);
    w.conformance(rgb.length).u32(rgb.length).bytes(rgb);
  });
}

/** Decodes the NDR stub of an IDL_DRSBind response. */
export function decodeDrsBindResponse(stub: Buffer): DrsBindResponse {
  const r = new NdrReader(stub, 'IDL_DRSBind reply');
  let serverExtensions: DrsExtensions | null = null;
  r.topLevelPointer('ppextServer', () => {
    const max = r.conformance(1, 'ppextServer.rgb', 10000);
    const cb = r.u32('ppextServer.cb');
    if (cb !== max) throw r.malformed('ppextServer.cb', `is ${cb} but rgb holds ${max} bytes`);
    serverExtensions = decodeDrsExtensionsInt(r.bytes(max, 'ppextServer.rgb'));
  });
  const handle = r.contextHandle('phDrs');
  const status = r.u32('return value');
  return { serverExtensions, handle, status };
}

function guidOrNull(guid: Buffer | undefined, what: string): Buffer {
  if (guid === undefined) return Buffer.alloc(16);
  if (guid.length !== 16) throw new RangeError(`${what} is a GUID of 16 bytes, not ${guid.length}`);
  return guid;
}
