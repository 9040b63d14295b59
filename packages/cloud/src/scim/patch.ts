/**
 * PATCH (RFC 7644 §3.5.2) on one loaded resource's SCIM representation:
 * add, remove and replace, with attribute paths, sub-attributes and value
 * filters (`emails[type eq "work"].value`). Group members never come here:
 * they are changed in the database, one link at a time (see scim/members.ts).
 */
import { z } from 'zod';
import { ScimError } from './errors.ts';
import { sameJson } from '../directory/objects.ts';
import { matchesElement } from './filter/evaluate.ts';
import { parseAttrPath, parsePatchPath, type AttrPath, type Filter } from './filter/parse.ts';
import { isObject, normalizeValue, type Json, type JsonObject } from './normalize.ts';
import { resolveAttribute, resourceTypes, schemaUris, type AttributeDef, type ResourceKind } from './schemas.ts';

export const patchRequest = z.object({
  schemas: z.array(z.string()).refine((s) => s.includes(schemaUris.patchOp), `must be ["${schemaUris.patchOp}"]`),
  Operations: z.array(z.object({
    // Some clients capitalize the operation (Microsoft's sends "Add", "Replace")
    op: z.string().transform((v) => v.toLowerCase()).pipe(z.enum(['add', 'remove', 'replace'], { error: 'op must be add, remove or replace' })),
    path: z.string().optional(),
    value: z.unknown().optional(),
  }).loose()).min(1, 'Operations must hold at least one operation'),
}).loose();
export type PatchRequest = z.infer<typeof patchRequest>;
export type PatchOperation = PatchRequest['Operations'][number];

/** One operation on one attribute: what PATCH operations without a path are split into. */
export interface TargetedOperation {
  op: 'add' | 'remove' | 'replace';
  path: AttrPath;
  filter?: Filter;
  sub?: string;
  value?: Json;
  /** the text of the path, for messages */
  text: string;
}

/** Splits an operation into operations on single attributes (a missing path means "the value's attributes"). */
export function targetOperations(kind: ResourceKind, op: PatchOperation): TargetedOperation[] {
  if (op.path !== undefined) {
    const p = parsePatchPath(op.path);
    if (op.op !== 'remove' && op.value === undefined) throw new ScimError(400, 'invalidValue', `${op.op} ${op.path}: the operation needs a value`);
    return [{ op: op.op, path: p.path, ...(p.filter ? { filter: p.filter } : {}), ...(p.sub ? { sub: p.sub } : {}), ...(op.value !== undefined ? { value: op.value as Json } : {}), text: op.path }];
  }
  if (op.op === 'remove') throw new ScimError(400, 'noTarget', 'a remove operation needs a path naming what to remove');
  if (!isObject(op.value)) throw new ScimError(400, 'invalidValue', `${op.op} without a path: the value must be an object of attributes`);
  const out: TargetedOperation[] = [];
  const type = resourceTypes[kind];
  for (const [key, value] of Object.entries(op.value)) {
    const ext = type.extensions.find((e) => e.toLowerCase() === key.toLowerCase());
    if (ext && isObject(value)) {
      for (const [k, v] of Object.entries(value)) out.push({ op: op.op, path: { ...parseAttrPath(k, 'path'), schema: ext }, value: v, text: `${ext}:${k}` });
      continue;
    }
    if (key === 'schemas') continue;
    out.push({ op: op.op, path: parseAttrPath(key, 'path'), value: value as Json, text: key });
  }
  return out;
}

const sameValue = (a: Json, b: Json) => sameJson(a, b);

function keyOf(o: JsonObject, name: string): string | undefined {
  return Object.keys(o).find((k) => k.toLowerCase() === name.toLowerCase());
}

/** Applies one targeted operation to `resource` (a SCIM representation, modified in place). */
export function applyOperation(kind: ResourceKind, resource: JsonObject, t: TargetedOperation): void {
  const found = resolveAttribute(kind, t.sub ? { ...t.path, sub: undefined } : t.path);
  if (!found) throw new ScimError(400, 'invalidPath', `${t.text}: ${t.path.attr} is not an attribute of ${kind}`);
  const def = found.def;
  const sub = t.sub ? def.subAttributes?.find((s) => s.name.toLowerCase() === t.sub!.toLowerCase()) : found.sub;
  if (t.sub && !sub) throw new ScimError(400, 'invalidPath', `${t.text}: ${def.name} has no sub-attribute ${t.sub}`);
  const target = sub ?? def;
  if (def.mutability === 'readOnly' || target.mutability === 'readOnly') {
    throw new ScimError(400, 'mutability', `${t.text} is read only${def.name === 'groups' ? ': change a user\'s groups through the groups\' members' : ''}`);
  }
  if (t.op === 'remove' && !sub && !t.filter && t.value === undefined && def.required) throw new ScimError(400, 'mutability', `${t.text} is required and cannot be removed`);
  const container = found.schema === resourceTypes[kind].schema ? resource : ((resource[found.schema] as JsonObject | undefined) ?? (resource[found.schema] = {}));
  const key = keyOf(container, def.name) ?? def.name;
  if (key !== def.name) {
    container[def.name] = container[key]!;
    delete container[key];
  }
  const current = container[def.name];

  if (def.multiValued) {
    const values: Json[] = Array.isArray(current) ? [...current] : current === undefined || current === null ? [] : [current];
    if (t.filter) {
      const matching = values.map((v, i) => (matchesElement(t.filter!, v, def) ? i : -1)).filter((i) => i >= 0);
      if (t.op === 'remove') {
        if (sub) for (const i of matching) delete (values[i] as JsonObject)[keyOf(values[i] as JsonObject, sub.name) ?? sub.name];
        const kept = sub ? values : values.filter((_, i) => !matching.includes(i));
        setOrDelete(container, def.name, kept);
        return;
      }
      if (matching.length === 0) {
        if (t.op === 'replace') throw new ScimError(400, 'noTarget', `${t.text}: no value of ${def.name} matches the filter`);
        // add to a filtered path that matches nothing: a new value carrying what the filter's eq terms say
        const created: JsonObject = { ...equalities(t.filter) };
        if (sub) created[sub.name] = normalizeValue(sub, t.value ?? null, t.text);
        else Object.assign(created, normalizeValue(def, t.value ?? null, t.text, { element: true }) as JsonObject);
        values.push(normalizeValue(def, created, t.text, { element: true }));
        setOrDelete(container, def.name, values);
        return;
      }
      for (const i of matching) {
        if (sub) (values[i] as JsonObject)[sub.name] = normalizeValue(sub, t.value ?? null, t.text);
        else values[i] = t.op === 'add' && isObject(values[i]) && isObject(t.value) ? { ...(values[i] as JsonObject), ...(normalizeValue(def, t.value, t.text, { element: true }) as JsonObject) } : normalizeValue(def, t.value ?? null, t.text, { element: true });
      }
      setOrDelete(container, def.name, values);
      return;
    }
    if (sub) {
      // emails.value without a filter: every value's sub-attribute
      for (const v of values) {
        if (!isObject(v)) continue;
        if (t.op === 'remove') delete v[keyOf(v, sub.name) ?? sub.name];
        else v[sub.name] = normalizeValue(sub, t.value ?? null, t.text);
      }
      setOrDelete(container, def.name, values);
      return;
    }
    const given = t.value === undefined ? [] : (normalizeValue(def, t.value, t.text) as Json[]);
    if (t.op === 'remove') {
      // with a value (as some clients send): remove those values; without: the whole attribute
      const kept = t.value === undefined ? [] : values.filter((v) => !given.some((g) => sameValue(g, v) || (isObject(g) && isObject(v) && g.value !== undefined && g.value === v.value)));
      setOrDelete(container, def.name, kept);
      return;
    }
    let next = t.op === 'replace' ? given : [...values, ...given.filter((g) => !values.some((v) => sameValue(v, g)))];
    // one primary at most: a value added as primary takes the flag from the others (RFC 7643 §2.4)
    if (given.some((g) => isObject(g) && g.primary === true)) {
      const primary = given.find((g) => isObject(g) && g.primary === true);
      next = next.map((v) => (isObject(v) && v !== primary && v.primary === true && !given.includes(v) ? { ...v, primary: false } : v));
    }
    setOrDelete(container, def.name, next);
    return;
  }

  if (t.filter) throw new ScimError(400, 'invalidPath', `${t.text}: value filters apply to multi-valued attributes; ${def.name} is single-valued`);
  if (sub) {
    const obj = isObject(current) ? { ...current } : {};
    if (t.op === 'remove') delete obj[keyOf(obj, sub.name) ?? sub.name];
    else obj[sub.name] = normalizeValue(sub, t.value ?? null, t.text);
    setOrDelete(container, def.name, obj);
    return;
  }
  if (t.op === 'remove') {
    delete container[def.name];
    return;
  }
  const value = normalizeValue(def, t.value ?? null, t.text);
  // add on a complex attribute merges sub-attributes; replace sets the whole value
  container[def.name] = t.op === 'add' && def.type === 'complex' && isObject(current) && isObject(value) ? { ...current, ...value } : value;
  if (container[def.name] === null) delete container[def.name];
}

function setOrDelete(container: JsonObject, name: string, value: Json): void {
  if (value === null || (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0)) delete container[name];
  else container[name] = value;
}

/** `type eq "work" and primary eq true` → { type: "work", primary: true } */
function equalities(f: Filter): JsonObject {
  if (f.op === 'and') return { ...equalities(f.left), ...equalities(f.right) };
  if (f.op === 'eq') return { [f.path.sub ?? f.path.attr]: f.value as Json };
  return {};
}

/** Whether an operation targets the members of a group. */
export function isMembersOperation(kind: ResourceKind, t: TargetedOperation): boolean {
  return kind === 'Group' && t.path.attr.toLowerCase() === 'members' && (!t.path.schema || t.path.schema === schemaUris.group);
}

export type { AttributeDef };
