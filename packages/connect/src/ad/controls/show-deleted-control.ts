/** Show Deleted (OID 1.2.840.113556.1.4.417): tombstones take part in the search. No value. */
import { Control } from 'ldapts';

export const SHOW_DELETED_OID = '1.2.840.113556.1.4.417';

export class ShowDeletedControl extends Control {
  constructor() {
    super(SHOW_DELETED_OID, { critical: true });
  }
}
