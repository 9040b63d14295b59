/**
 * LDAP_SERVER_SD_FLAGS (OID 1.2.840.113556.1.4.801, MS-ADTS 3.1.1.3.4.1.11):
 * which parts of nTSecurityDescriptor a search returns or a modify writes.
 * With DACL only, an account that may write the DACL (an administrator)
 * changes permissions without touching the owner or the audit list.
 */
import { BerWriter, Control } from 'ldapts';

export const SD_FLAGS_OID = '1.2.840.113556.1.4.801';
export const OWNER_SECURITY_INFORMATION = 0x1;
export const DACL_SECURITY_INFORMATION = 0x4;

export class SdFlagsControl extends Control {
  readonly flags: number;

  constructor(flags = DACL_SECURITY_INFORMATION) {
    super(SD_FLAGS_OID, { critical: true });
    this.flags = flags;
  }

  protected override writeControl(writer: BerWriter): void {
    const value = new BerWriter();
    value.startSequence();
    value.writeInt(this.flags);
    value.endSequence();
    writer.writeBuffer(value.buffer, 0x04);
  }
}
