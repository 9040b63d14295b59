/**
 * Bulk (RFC 7644 §3.7): many operations in one request, each applied on its
 * own (one transaction per operation), in order, stopping after
 * `failOnErrors` errors. `bulkId:` references are resolved to the ids of
 * resources created earlier in the request; a reference to a resource the
 * request creates later (or a circular one, §3.7.1) is left out at first and
 * added once that resource exists.
 */
import { z } from 'zod';
import { isUuid } from '../directory/objects.ts';
import { ScimError, toScimError } from './errors.ts';
import { isObject, type Json, type JsonObject } from './normalize.ts';
import { schemaUris, type ResourceKind } from './schemas.ts';
import { createResource, deleteResource, patchResource, replaceResource, type ScimContext } from './service.ts';
import { parseProjection } from './projection.ts';
import { etagOf } from './resources.ts';
import { decodeUriComponentOrNull } from '../http/uri.ts';

export const bulkLimits = { maxOperations: 1000, maxPayloadSize: 1_048_576 } as const;

export const bulkRequest = z.object({
  schemas: z.array(z.string()).refine((s) => s.includes(schemaUris.bulkRequest), `must be ["${schemaUris.bulkRequest}"]`),
  failOnErrors: z.number().int().min(1).optional(),
  Operations: z.array(z.object({
    method: z.string().transform((m) => m.toUpperCase()).pipe(z.enum(['POST', 'PUT', 'PATCH', 'DELETE'], { error: 'method must be POST, PUT, PATCH or DELETE' })),
    bulkId: z.string().min(1).max(256).optional(),
    version: z.string().optional(),
    path: z.string().min(1),
    data: z.unknown().optional(),
  }).loose()).max(bulkLimits.maxOperations, `at most ${bulkLimits.maxOperations} operations per request (maxOperations)`),
}).loose();

interface Deferred {
  /** the operation whose resource gets the reference */
  op: number;
  kind: ResourceKind;
  id: string;
  bulkId: string;
  attribute: 'members' | 'manager';
}

const noProjection = parseProjection('User', null, null);

export async function runBulk(ctx: ScimContext, body: unknown): Promise<JsonObject> {
  const parsed = bulkRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const tooMany = issue.path[0] === 'Operations' && issue.code === 'too_big';
    throw new ScimError(tooMany ? 413 : 400, tooMany ? undefined : 'invalidSyntax', `the bulk request is invalid: ${issue.path.join('.') || 'body'} ${issue.message}`);
  }
  const { Operations: ops, failOnErrors } = parsed.data;
  const definedBy = new Map<string, number>();
  for (const [i, op] of ops.entries()) {
    if (!op.bulkId) continue;
    if (definedBy.has(op.bulkId)) throw new ScimError(400, 'invalidValue', `bulkId ${op.bulkId} is used by two operations: each bulkId must be unique in the request`);
    if (op.method === 'POST') definedBy.set(op.bulkId, i);
  }
  const created = new Map<string, { id: string; kind: ResourceKind }>();
  const results: JsonObject[] = [];
  const deferred: Deferred[] = [];
  let errors = 0;

  for (const [i, op] of ops.entries()) {
    if (failOnErrors !== undefined && errors >= failOnErrors) break;
    const base: JsonObject = { method: op.method, ...(op.bulkId ? { bulkId: op.bulkId } : {}) };
    try {
      const later: { bulkId: string; attribute: 'members' | 'manager' }[] = [];
      const resolveRef = (ref: string, where: 'members' | 'manager' | 'other'): string | null => {
        const bulkId = ref.slice('bulkId:'.length);
        const done = created.get(bulkId);
        if (done) return done.id;
        const pending = definedBy.get(bulkId);
        if (pending !== undefined && pending !== i && where !== 'other') {
          later.push({ bulkId, attribute: where });
          return null;
        }
        throw new ScimError(409, 'invalidValue', `bulkId:${bulkId} cannot be resolved: no operation of this request ${pending === undefined ? 'creates a resource with that bulkId' : 'created it successfully before this one'}`);
      };
      const target = parseTarget(op.path, (ref) => resolveRef(ref, 'other'));
      const data = op.data === undefined ? undefined : resolveData(op.data as Json, resolveRef);
      if (op.method === 'POST') {
        if (target.id) throw new ScimError(400, 'invalidPath', `POST goes to /Users or /Groups, not ${op.path}`);
        if (!op.bulkId) throw new ScimError(400, 'invalidValue', 'a POST in a bulk request needs a bulkId');
        const r = await createResource(ctx, target.kind, data, { projection: noProjection, membersCount: 0 });
        created.set(op.bulkId, { id: r.row.id, kind: target.kind });
        for (const l of later) deferred.push({ op: i, kind: target.kind, id: r.row.id, ...l });
        results.push({ ...base, location: `${ctx.baseUrl}/${target.kind}s/${r.row.id}`, version: etagOf(r.row), status: '201' });
        continue;
      }
      if (!target.id) throw new ScimError(400, 'invalidPath', `${op.method} needs the resource's path, such as /Users/{id}`);
      const location = `${ctx.baseUrl}/${target.kind}s/${target.id}`;
      if (later.length) throw new ScimError(409, 'invalidValue', `bulkId:${later[0]!.bulkId} is created by a later operation: reorder the request`);
      if (op.method === 'DELETE') {
        await deleteResource(ctx, target.kind, target.id, op.version ?? null);
        results.push({ ...base, location, status: '204' });
      } else if (op.method === 'PUT') {
        const r = await replaceResource(ctx, target.kind, target.id, data, op.version ?? null, { projection: noProjection, membersCount: 0 });
        results.push({ ...base, location, version: etagOf(r.row), status: '200' });
      } else {
        const r = await patchResource(ctx, target.kind, target.id, data, op.version ?? null, { projection: noProjection, membersCount: 0, returnResource: false });
        results.push({ ...base, location, version: etagOf(r.row), status: '200' });
      }
    } catch (err) {
      const scim = toScimError(err);
      if (!scim) throw err;
      errors += 1;
      results.push({ ...base, status: String(scim.status), response: scim.toBody() as JsonObject });
    }
  }

  // References to resources created later in the request (forward and circular references)
  for (const d of deferred) {
    const ref = created.get(d.bulkId);
    const result = results[d.op]!;
    if (!ref) {
      result.status = '409';
      result.response = new ScimError(409, 'invalidValue', `bulkId:${d.bulkId} cannot be resolved: the operation that creates it failed or did not run; the ${d.kind.toLowerCase()} was created without that reference`).toBody() as JsonObject;
      continue;
    }
    const operation = d.attribute === 'members'
      ? { op: 'add', path: 'members', value: [{ value: ref.id }] }
      : { op: 'replace', path: `${schemaUris.enterprise}:manager`, value: { value: ref.id } };
    const r = await patchResource(ctx, d.kind, d.id, { schemas: [schemaUris.patchOp], Operations: [operation] }, null, { projection: noProjection, returnResource: false });
    result.version = etagOf(r.row);
  }
  return { schemas: [schemaUris.bulkResponse], Operations: results };
}

function parseTarget(path: string, resolve: (ref: string) => string | null): { kind: ResourceKind; id?: string } {
  const m = /^\/(Users|Groups)(?:\/([^/]+))?\/?$/i.exec(path);
  if (!m) throw new ScimError(400, 'invalidPath', `bulk paths are /Users, /Groups, /Users/{id} or /Groups/{id}; got ${path}`);
  const kind: ResourceKind = m[1]!.toLowerCase() === 'users' ? 'User' : 'Group';
  const decoded = m[2] === undefined ? undefined : decodeUriComponentOrNull(m[2]);
  if (decoded === null) throw new ScimError(400, 'invalidPath', `${path}: the id has a malformed %-escape`);
  let id = decoded;
  if (id?.startsWith('bulkId:')) id = resolve(id) ?? undefined;
  if (id !== undefined && !isUuid(id)) throw new ScimError(404, undefined, `${path}: there is no such ${kind.toLowerCase()}`);
  return { kind, ...(id ? { id } : {}) };
}

/**
 * Replaces "bulkId:…" values in the data. A members value or a manager value
 * that refers to a resource not created yet is left out (it is added later).
 */
function resolveData(data: Json, resolve: (ref: string, where: 'members' | 'manager' | 'other') => string | null): Json {
  const walk = (v: Json, where: 'members' | 'manager' | 'other'): Json | undefined => {
    if (typeof v === 'string' && v.startsWith('bulkId:')) return resolve(v, where) ?? undefined;
    if (Array.isArray(v)) {
      const out: Json[] = [];
      for (const x of v) {
        if (where === 'members' && isObject(x) && typeof x.value === 'string' && x.value.startsWith('bulkId:')) {
          const id = resolve(x.value, 'members');
          if (id) out.push({ ...x, value: id });
          continue;
        }
        const w = walk(x, where);
        if (w !== undefined) out.push(w);
      }
      return out;
    }
    if (isObject(v)) {
      const out: JsonObject = {};
      for (const [k, x] of Object.entries(v)) {
        const lower = k.toLowerCase();
        const next = lower === 'members' ? 'members' : lower === 'manager' || lower.endsWith(':manager') ? 'manager' : where;
        if (next === 'manager' && isObject(x) && typeof x.value === 'string' && x.value.startsWith('bulkId:')) {
          const id = resolve(x.value, 'manager');
          if (id) out[k] = { ...x, value: id };
          continue;
        }
        const w = walk(x, next);
        if (w !== undefined) out[k] = w;
      }
      return out;
    }
    return v;
  };
  return walk(data, 'other') ?? null;
}
