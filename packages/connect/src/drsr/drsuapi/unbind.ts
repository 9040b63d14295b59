/**
 * IDL_DRSUnbind (MS-DRSR 4.1.25, opnum 1): gives back the DRS_HANDLE.
 *
 *   ULONG IDL_DRSUnbind([in, out, ref] DRS_HANDLE* phDrs);
 *
 * The handle goes as the 20 bytes of a context handle both ways; the server
 * returns it zeroed once closed.
 */
import { NdrReader } from '../ndr/ndr-reader.ts';
import { NdrWriter } from '../ndr/ndr-writer.ts';

export interface DrsUnbindResponse {
  /** phDrs as returned: all zero once the server has closed it. */
  handle: Buffer;
  /** The return value: 0 on success, else a Windows error code. */
  status: number;
}

/** The NDR stub of an IDL_DRSUnbind request for `handle` (from IDL_DRSBind). */
export function encodeDrsUnbindRequest(handle: Buffer): Buffer {
  return new NdrWriter().contextHandle(handle).finish();
}

/** Decodes the NDR stub of an IDL_DRSUnbind response. */
export function decodeDrsUnbindResponse(stub: Buffer): DrsUnbindResponse {
  const r = new NdrReader(stub, 'IDL_DRSUnbind reply');
  const handle = r.contextHandle('phDrs');
  const status = r.u32('return value');
  return { handle, status };
}
