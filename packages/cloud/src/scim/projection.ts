/**
 * `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): which
 * attributes a response carries. `id` and `schemas` are always returned.
 */
import { ScimError } from './errors.ts';
import { parseAttrPath } from './filter/parse.ts';
import { isObject, type Json, type JsonObject } from './normalize.ts';
import { resolveAttribute, resourceTypes, type ResourceKind } from './schemas.ts';

interface Selected {
  schema: string;
  name: string;
  sub?: string;
}

export interface Projection {
  attributes: Selected[] | null;
  excluded: Selected[];
}

function parseList(kind: ResourceKind, raw: string | string[] | null | undefined, param: string): Selected[] | null {
  if (raw === null || raw === undefined) return null;
  const items = (Array.isArray(raw) ? raw : raw.split(',')).map((s) => s.trim()).filter(Boolean);
  return items.map((item) => {
    const path = parseAttrPath(item, 'path');
    // a bare extension URN selects the whole extension
    const ext = resourceTypes[kind].extensions.find((e) => e.toLowerCase() === item.toLowerCase());
    if (ext) return { schema: ext, name: '*' };
    const found = resolveAttribute(kind, path);
    if (!found) throw new ScimError(400, 'invalidValue', `${param}: ${item} is not an attribute of ${kind}`);
    return { schema: found.schema, name: found.def.name, ...(found.sub ? { sub: found.sub.name } : {}) };
  });
}

export function parseProjection(kind: ResourceKind, attributes: string | string[] | null | undefined, excluded: string | string[] | null | undefined): Projection {
  return { attributes: parseList(kind, attributes, 'attributes'), excluded: parseList(kind, excluded, 'excludedAttributes') ?? [] };
}

/** Whether the response will carry `name` (so that costly attributes, members and groups, are read only when wanted). */
export function projects(kind: ResourceKind, p: Projection, name: string): boolean {
  const core = resourceTypes[kind].schema;
  if (p.excluded.some((s) => s.schema === core && s.name === name && !s.sub)) return false;
  if (p.attributes) return p.attributes.some((s) => s.schema === core && s.name === name);
  return true;
}

export function applyProjection(kind: ResourceKind, resource: JsonObject, p: Projection): JsonObject {
  const core = resourceTypes[kind].schema;
  const containerOf = (r: JsonObject, schema: string): JsonObject | undefined => (schema === core ? r : (r[schema] as JsonObject | undefined));
  let out: JsonObject;
  if (p.attributes) {
    out = { schemas: resource.schemas!, id: resource.id! };
    for (const s of p.attributes) {
      if (s.name === '*') {
        if (resource[s.schema] !== undefined) out[s.schema] = resource[s.schema]!;
        continue;
      }
      const from = containerOf(resource, s.schema);
      const value = from?.[s.name];
      if (value === undefined) continue;
      const to = s.schema === core ? out : ((out[s.schema] as JsonObject | undefined) ?? (out[s.schema] = {}) as JsonObject);
      if (!s.sub) {
        to[s.name] = value;
        continue;
      }
      const pickSub = (v: Json): Json => (isObject(v) ? (v[s.sub!] === undefined ? {} : { [s.sub!]: v[s.sub!]! }) : v);
      const prev = to[s.name];
      const picked = Array.isArray(value) ? value.map(pickSub) : pickSub(value);
      // several sub-attributes of one attribute accumulate
      to[s.name] = Array.isArray(picked) && Array.isArray(prev) ? picked.map((v, i) => ({ ...(prev[i] as JsonObject), ...(v as JsonObject) })) : isObject(prev) && isObject(picked) ? { ...prev, ...picked } : picked;
    }
  } else {
    out = structuredClone(resource);
  }
  for (const s of p.excluded) {
    if (s.name === 'id' || s.name === 'schemas') continue;
    if (s.name === '*') {
      delete out[s.schema];
      continue;
    }
    const c = containerOf(out, s.schema);
    if (!c || c[s.name] === undefined) continue;
    const value = c[s.name]!;
    if (!s.sub) delete c[s.name];
    else if (Array.isArray(value)) {
      for (const v of value) if (isObject(v)) delete v[s.sub];
    } else if (isObject(value)) delete value[s.sub];
  }
  return out;
}
