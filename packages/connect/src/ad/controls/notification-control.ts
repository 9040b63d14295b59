/**
 * LDAP_SERVER_NOTIFICATION_OID (1.2.840.113556.1.4.528): a search that never
 * completes; the server sends an entry each time an object in scope changes.
 * No value. Active Directory requires scope base or one-level, or a subtree
 * search based on a naming context root, and the filter (objectClass=*).
 */
import { Control } from 'ldapts';

export const NOTIFICATION_OID = '1.2.840.113556.1.4.528';

export class NotificationControl extends Control {
  constructor() {
    super(NOTIFICATION_OID, { critical: true });
  }
}
