/**
 * GUIDs as NDR carries them (MS-DTYP 2.3.4.2, C706 appendix A): 16 bytes,
 * Data1 (32 bits), Data2 and Data3 (16 bits) little-endian, Data4 as the
 * 8 bytes it is — the same layout as objectGUID over LDAP, so the string
 * forms are those of ad/guid.ts (braces accepted here, as DRSCrackNames
 * writes them).
 */
import { guidToBytes, guidToString } from '../../ad/guid.ts';

/** The 16 wire bytes of a GUID written in the usual string form (braces optional). */
export function guidFromString(text: string): Buffer {
  try {
    return guidToBytes(text.trim().replace(/^\{(.*)\}$/, '$1'));
  } catch {
    throw new TypeError(`not a GUID: ${JSON.stringify(text)}`);
  }
}

export { guidToString };

/** A fresh NULL GUID (MS-DRSR 5.139): 16 zero bytes. */
export const nullGuid = (): Buffer => Buffer.alloc(16);

/** Whether 16 bytes are the NULL GUID. */
export const isNullGuid = (bytes: Uint8Array): boolean => bytes.length === 16 && bytes.every((b) => b === 0);
