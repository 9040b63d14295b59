/**
 * The source anchor: what makes an on-premises object the same cloud object
 * for ever. Sent as base64 as the cloud's immutable id.
 *
 * - objectGUID (the default): never changes while the object lives in its
 *   domain.
 * - mS-DS-ConsistencyGuid: survives a move to another forest. An object that
 *   has none is anchored on its objectGUID bytes, which is what stamping
 *   writes into mS-DS-ConsistencyGuid: so switching from objectGUID to
 *   mS-DS-ConsistencyGuid changes no immutable id.
 */
import { guidToBytes } from '../ad/guid.ts';
import type { SpaceObject } from '../space/connector-space.ts';

export const sourceAnchors = ['objectGUID', 'mS-DS-ConsistencyGuid'] as const;
export type SourceAnchor = (typeof sourceAnchors)[number];

export function immutableIdOf(object: Pick<SpaceObject, 'guid' | 'attributes'>, anchor: SourceAnchor): string {
  if (anchor === 'mS-DS-ConsistencyGuid') {
    const stamped = object.attributes['mS-DS-ConsistencyGuid']?.[0];
    if (stamped) return stamped; // kept base64 in the connector space
  }
  return guidToBytes(object.guid).toString('base64');
}
