/**
 * NT hashes from a domain controller over MS-DRSR, for password hash
 * synchronization: one DRSGetNCChanges extended operation per user
 * (objectSid and unicodePwd only), decrypted with the association's session
 * key. Errors that concern one user are returned for that user; those that
 * concern the connection (rights, reachability, integrity) are thrown.
 */
import { ConnectError } from '../errors.ts';
import type { HashReadRequest, HashReadResult, HashSource } from '../phs/password-hash-sync.ts';
import { DrsClient, type DrsConnectOptions } from './drs-client.ts';
import { attributeValues, type GetNcChangesReply } from './drsuapi/get-nc-changes.ts';
import { ATTRIBUTE_OID } from './drsuapi/prefix-table.ts';
import { guidFromString, guidToString } from './ndr/guid.ts';
import { zeroUsnVector, type UsnVector } from './drsuapi/structures.ts';
import { decryptNtHash, ridOf } from './secrets/decrypt-secret.ts';

const ATTRIBUTES = [ATTRIBUTE_OID.objectSid, ATTRIBUTE_OID.unicodePwd] as const;

/** Errors about the whole connection rather than one user. */
const connectionWide = new Set(['drsr_auth_failed', 'ad_missing_rights', 'ad_unreachable', 'ad_timeout', 'ad_connection_lost', 'drsr_protocol_error', 'drsr_integrity_failed', 'drsr_malformed_reply']);

export class DrsHashSource implements HashSource {
  readonly #client: DrsClient;

  private constructor(client: DrsClient) {
    this.#client = client;
  }

  static async open(options: DrsConnectOptions): Promise<DrsHashSource> {
    return new DrsHashSource(await DrsClient.connect(options));
  }

  async read(users: HashReadRequest[]): Promise<HashReadResult[]> {
    const out: HashReadResult[] = [];
    for (const user of users) {
      try {
        const object = await this.#client.readObject({ guid: guidFromString(user.guid), dn: user.dn }, ATTRIBUTES, user.dn);
        const encrypted = attributeValues(object, ATTRIBUTE_OID.unicodePwd)?.[0];
        out.push({ guid: user.guid, ntHash: encrypted ? decryptNtHash(this.#client.sessionKey, encrypted, ridOf(object.sid, user.dn), user.dn) : null });
      } catch (err) {
        if (!(err instanceof ConnectError) || connectionWide.has(err.code)) throw err;
        out.push({ guid: user.guid, error: err });
      }
    }
    return out;
  }

  /**
   * Every account's hash in the naming context: a replication of it from
   * USN 0 (objectSid and unicodePwd only), page by page. An account
   * without a password comes with a null hash; a secret that fails to
   * decrypt is an error for that account.
   */
  async readAll(namingContext: string, onPage: (page: (HashReadResult & { dn: string })[]) => Promise<void>): Promise<void> {
    const fetch = (from: UsnVector, invocationId?: Buffer) => this.#client.changesAfter({ dn: namingContext }, from, ATTRIBUTES, { maxObjects: 1000, ...(invocationId ? { invocationId } : {}) });
    let next: Promise<GetNcChangesReply> | null = fetch(zeroUsnVector());
    while (next) {
      const reply: GetNcChangesReply = await next;
      // the DC builds the next page while this one is derived and sent
      next = reply.fMoreData ? fetch(reply.usnvecTo, reply.uuidInvocIdSrc) : null;
      next?.catch(() => {}); // a failure surfaces when it is awaited
      const page: (HashReadResult & { dn: string })[] = [];
      for (const object of reply.objects) {
        if (!object.sid.length) continue; // not a security principal
        const guid = guidToString(object.guid);
        try {
          const encrypted = attributeValues(object, ATTRIBUTE_OID.unicodePwd)?.[0];
          page.push({ guid, dn: object.dn, ntHash: encrypted ? decryptNtHash(this.#client.sessionKey, encrypted, ridOf(object.sid, object.dn), object.dn) : null });
        } catch (err) {
          if (!(err instanceof ConnectError) || connectionWide.has(err.code)) throw err;
          page.push({ guid, dn: object.dn, error: err });
        }
      }
      try {
        await onPage(page);
      } catch (err) {
        await next?.catch(() => {}); // let the page in flight land before the caller closes the connection
        throw err;
      }
    }
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}
