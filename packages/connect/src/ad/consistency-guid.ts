/**
 * Stamping mS-DS-ConsistencyGuid: with that attribute as the source anchor,
 * the agent writes each exported user's objectGUID bytes into it, as Azure
 * AD Connect does, so that the anchor survives a move to another forest.
 * The value equals what the immutable id was already computed from (see
 * sync/source-anchor.ts), so stamping changes no immutable id.
 *
 * The connector account needs "Write mS-DS-ConsistencyGuid" on user objects
 * (nothing more: no other attribute is ever written). An LDAP add, not a
 * replace: a value someone set meanwhile is never overwritten.
 */
import { Attribute, Change, ConstraintViolationError, InsufficientAccessError, NoSuchObjectError, TypeOrValueExistsError } from 'ldapts';
import type { ActiveDirectoryConfig } from '../config/agent-config.ts';
import { ConnectError } from '../errors.ts';
import { AdConnection } from './connection.ts';
import { guidToBytes } from './guid.ts';

export interface StampResult {
  stamped: number;
  /** already had a value, or are gone from AD: nothing to do */
  skipped: number;
}

/** The grant stamping needs (the stamper and the doctor say the same). */
export const stampRightFix = 'grant the connector account "Write mS-DS-ConsistencyGuid" on descendant user objects (dsacls "<domain DN>" /I:S /G "<account>:WP;mS-DS-ConsistencyGuid;user"), or set sync.stampConsistencyGuid to false';

/** mS-DS-ConsistencyGuid's schemaIDGUID, for the permission entry an administrator grants. */
export const consistencyGuidAttributeId = '23773dc2-b63a-11d2-90e1-00c04fd91ab1';

export async function stampConsistencyGuids(config: ActiveDirectoryConfig, password: string, items: { guid: string; dn: string }[]): Promise<StampResult> {
  const result: StampResult = { stamped: 0, skipped: 0 };
  if (!items.length) return result;
  const ad = await AdConnection.open(config, password);
  try {
    for (const item of items) {
      try {
        await ad.client.modify(`<GUID=${item.guid}>`, [new Change({ operation: 'add', modification: new Attribute({ type: 'mS-DS-ConsistencyGuid', values: [guidToBytes(item.guid)] }) })]);
        result.stamped += 1;
      } catch (err) {
        if (err instanceof TypeOrValueExistsError || err instanceof NoSuchObjectError || err instanceof ConstraintViolationError) {
          result.skipped += 1;
          continue;
        }
        if (err instanceof InsufficientAccessError) {
          throw new ConnectError('ad_missing_rights', `${config.bindAs} may not write mS-DS-ConsistencyGuid (first refused: ${item.dn})`, {
            subject: 'sync.stampConsistencyGuid',
            fix: stampRightFix,
            cause: err,
          });
        }
        throw new ConnectError('ad_protocol_error', `stamping mS-DS-ConsistencyGuid on ${item.dn} failed: ${(err as Error).message}`, { subject: item.dn, cause: err });
      }
    }
    return result;
  } finally {
    await ad.close();
  }
}
