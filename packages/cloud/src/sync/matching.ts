/**
 * Matching a synchronized object onto a cloud object (what Microsoft calls
 * hard and soft match):
 *
 * - hard match: the cloud holds an object with the same immutable id. If it
 *   is cloud-managed (directory synchronization was turned off, or it was
 *   created with that id), taking it over can be blocked per tenant
 *   (blockHardMatchTakeover).
 * - soft match: no object has the immutable id; a cloud-managed object of
 *   the same type without an immutable id has the same primary SMTP address
 *   (proxyAddresses "SMTP:", else mail) or, for users, the same UPN. It
 *   never applies to a holder of an admin role (an attacker controlling AD
 *   must not take over a cloud administrator), nor when the tenant blocks
 *   soft match (blockSoftMatch).
 */
import type { MatchPreviewRequest, MatchPreviewResponse, ObjectType } from '@skybridge/protocol';
import type { Queryable } from '../store/store.ts';
import { objectColumns, type ObjectRow } from '../directory/objects.ts';

export interface MatchSettings {
  blockSoftMatch: boolean;
  blockHardMatchTakeover: boolean;
}

export async function matchSettings(q: Queryable, tenantId: string): Promise<MatchSettings> {
  const { rows } = await q.query<{ block_soft_match: boolean; block_hard_match_takeover: boolean }>(
    'SELECT block_soft_match, block_hard_match_takeover FROM tenants WHERE id = $1', [tenantId]);
  return { blockSoftMatch: rows[0]?.block_soft_match ?? false, blockHardMatchTakeover: rows[0]?.block_hard_match_takeover ?? false };
}

/** The primary SMTP address an object would match by. */
export function primarySmtp(attributes: Record<string, unknown>): string | null {
  const proxies = Array.isArray(attributes.proxyAddresses) ? (attributes.proxyAddresses as unknown[]) : [];
  const primary = proxies.find((p): p is string => typeof p === 'string' && p.startsWith('SMTP:'));
  if (primary) return primary.slice(5);
  return typeof attributes.mail === 'string' ? attributes.mail : null;
}

export type SoftMatch =
  | { kind: 'none' }
  | { kind: 'match'; row: ObjectRow; by: 'primary SMTP address' | 'userPrincipalName' }
  | { kind: 'refused'; code: string; message: string };

export type Candidate = ObjectRow & { is_admin: boolean };

/**
 * The soft-match candidates for many values at once (one query per sync
 * batch): cloud-managed objects without an immutable id whose mail or UPN,
 * lower-cased, is among `values`.
 */
export async function softMatchCandidates(q: Queryable, tenantId: string, mails: string[], upns: string[]): Promise<Candidate[]> {
  if (!mails.length && !upns.length) return [];
  const { rows } = await q.query<Candidate>(
    `SELECT ${objectColumns.split(', ').map((c) => `o.${c}`).join(', ')},
            EXISTS (SELECT 1 FROM role_assignments r WHERE r.tenant_id = o.tenant_id AND r.principal_type = 'user' AND r.principal_id = o.id::text) AS is_admin
       FROM directory_objects o
      WHERE o.tenant_id = $1 AND o.deleted_at IS NULL AND o.source = 'cloud' AND o.immutable_id IS NULL
        AND ((o.mail IS NOT NULL AND lower(o.mail) = ANY($2::text[])) OR (o.upn IS NOT NULL AND lower(o.upn) = ANY($3::text[])))
      ORDER BY o.id`,
    [tenantId, mails.map((m) => m.toLowerCase()), upns.map((u) => u.toLowerCase())],
  );
  return rows;
}

/** The values an object soft-matches by: its primary SMTP address, and for users its UPN. */
export function softMatchKeys(type: ObjectType, attributes: Record<string, unknown>): { smtp: string | null; upn: string | null } {
  return { smtp: primarySmtp(attributes), upn: type === 'user' && typeof attributes.userPrincipalName === 'string' ? attributes.userPrincipalName : null };
}

export async function findSoftMatch(q: Queryable, tenantId: string, type: ObjectType, attributes: Record<string, unknown>, settings: MatchSettings, candidates?: Candidate[]): Promise<SoftMatch> {
  const { smtp, upn } = softMatchKeys(type, attributes);
  if (!smtp && !upn) return { kind: 'none' };
  const pool = candidates ?? (await softMatchCandidates(q, tenantId, smtp ? [smtp] : [], upn ? [upn] : []));
  for (const [by, column, value] of [['primary SMTP address', 'mail', smtp], ['userPrincipalName', 'upn', upn]] as const) {
    if (!value) continue;
    const rows = pool.filter((c) => c.object_type === type && c[column]?.toLowerCase() === value.toLowerCase());
    if (rows.length === 0) continue;
    if (rows.length > 1) return { kind: 'refused', code: 'soft_match_ambiguous', message: `several cloud ${type}s have the ${by} ${value}: give them distinct addresses, then sync again` };
    const row = rows[0]!;
    if (row.is_admin) return { kind: 'refused', code: 'soft_match_admin', message: `the cloud ${type} ${row.id} with the ${by} ${value} holds an admin role, so it is never matched onto an on-premises object: remove its roles first, or give the on-premises object another address` };
    if (settings.blockSoftMatch) return { kind: 'refused', code: 'soft_match_blocked', message: `the cloud ${type} ${row.id} has the ${by} ${value}, and this tenant blocks soft match: turn blockSoftMatch off for the takeover, or set its immutable id` };
    return { kind: 'match', row, by };
  }
  return { kind: 'none' };
}

/** How each object would match, without writing anything (the takeover preview). */
export async function previewMatches(q: Queryable, tenantId: string, objects: MatchPreviewRequest['objects']): Promise<MatchPreviewResponse['results']> {
  const settings = await matchSettings(q, tenantId);
  const { rows } = await q.query<{ id: string; immutable_id: string; source: string; object_type: string }>(
    'SELECT id, immutable_id, source, object_type FROM directory_objects WHERE tenant_id = $1 AND immutable_id = ANY($2::text[]) AND deleted_at IS NULL',
    [tenantId, objects.map((o) => o.immutableId)],
  );
  const byId = new Map(rows.map((r) => [r.immutable_id, r]));
  // the soft-match candidates of every object without a hard match, in one query
  const keys = objects.filter((o) => !byId.has(o.immutableId)).map((o) => softMatchKeys(o.type, o.attributes));
  const candidates = await softMatchCandidates(q, tenantId, keys.flatMap((k) => (k.smtp ? [k.smtp] : [])), keys.flatMap((k) => (k.upn ? [k.upn] : [])));
  const results: MatchPreviewResponse['results'] = [];
  for (const [index, o] of objects.entries()) {
    const hard = byId.get(o.immutableId);
    if (hard) {
      if (hard.object_type !== o.type) results.push({ index, immutableId: o.immutableId, outcome: 'refused', objectId: hard.id, reason: `the immutable id belongs to a ${hard.object_type}` });
      else if (hard.source === 'cloud' && settings.blockHardMatchTakeover) results.push({ index, immutableId: o.immutableId, outcome: 'refused', objectId: hard.id, reason: 'this tenant blocks hard-match takeover of cloud-managed objects' });
      else results.push({ index, immutableId: o.immutableId, outcome: 'hard', objectId: hard.id, synced: hard.source === 'onprem' });
      continue;
    }
    const soft = await findSoftMatch(q, tenantId, o.type, o.attributes, settings, candidates);
    if (soft.kind === 'match') results.push({ index, immutableId: o.immutableId, outcome: 'soft', objectId: soft.row.id, by: soft.by });
    else if (soft.kind === 'refused') results.push({ index, immutableId: o.immutableId, outcome: 'refused', reason: soft.message });
    else results.push({ index, immutableId: o.immutableId, outcome: 'new' });
  }
  return results;
}
