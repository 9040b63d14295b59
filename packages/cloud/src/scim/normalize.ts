/**
 * Incoming SCIM resources, made canonical: attribute names are
 * case-insensitive (RFC 7643 §2.1), so `nickname` becomes `nickName`;
 * fully qualified names (`urn:…:User:userName`) are put where they belong;
 * read-only attributes are dropped (RFC 7644 §3.5.1); values are checked
 * against their declared types. Unknown attributes are refused with
 * `invalidValue` naming them: nothing a client sends is silently lost.
 */
import { ScimError } from './errors.ts';
import { commonAttributes, resourceTypes, schemas, type AttributeDef, type ResourceKind } from './schemas.ts';

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

const schemaById = new Map(schemas.map((s) => [s.id.toLowerCase(), s]));

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function findDef(defs: AttributeDef[], name: string): AttributeDef | undefined {
  const lower = name.toLowerCase();
  return defs.find((d) => d.name.toLowerCase() === lower);
}

/** Checks and canonicalizes one value of `def` (`multi` false: one element of a multi-valued attribute). */
export function normalizeValue(def: AttributeDef, value: Json, where: string, options: { element?: boolean } = {}): Json {
  if (value === null) return null;
  if (def.multiValued && !options.element) {
    const list = Array.isArray(value) ? value : [value];
    return list.map((v, i) => normalizeValue(def, v, `${where}[${i}]`, { element: true }));
  }
  if (Array.isArray(value)) throw new ScimError(400, 'invalidValue', `${where} takes a single value, not an array`);
  switch (def.type) {
    case 'complex': {
      if (!isObject(value)) throw new ScimError(400, 'invalidValue', `${where} must be an object with the sub-attributes ${def.subAttributes!.map((s) => s.name).join(', ')}`);
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(value)) {
        const sub = findDef(def.subAttributes!, k);
        if (!sub) throw new ScimError(400, 'invalidValue', `${where} has no sub-attribute "${k}" (it has ${def.subAttributes!.map((s) => s.name).join(', ')})`);
        const nv = normalizeValue(sub, v, `${where}.${sub.name}`);
        if (nv !== null) out[sub.name] = nv;
      }
      return out;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      // Some provisioning clients (Microsoft's among them) send booleans as "True"/"False".
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
      throw new ScimError(400, 'invalidValue', `${where} must be true or false`);
    case 'integer':
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      throw new ScimError(400, 'invalidValue', `${where} must be a whole number`);
    case 'decimal':
      if (typeof value === 'number') return value;
      throw new ScimError(400, 'invalidValue', `${where} must be a number`);
    case 'dateTime':
      if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return value;
      throw new ScimError(400, 'invalidValue', `${where} must be an xsd:dateTime such as 2026-01-31T12:00:00Z`);
    default:
      if (typeof value === 'string') return value;
      if (def.type === 'string' && (typeof value === 'number' || typeof value === 'boolean')) return String(value);
      throw new ScimError(400, 'invalidValue', `${where} must be a string`);
  }
}

export interface NormalizedResource {
  /** core and common attributes, canonical names */
  core: JsonObject;
  /** extension attributes by schema URN */
  extensions: Record<string, JsonObject>;
  schemas: string[];
}

/**
 * Canonicalizes a resource as sent in POST or PUT (or built by PATCH).
 * `keepReadOnly` keeps read-only attributes (for PATCH, which works on the
 * stored representation).
 */
export function normalizeResource(kind: ResourceKind, body: unknown, options: { keepReadOnly?: boolean } = {}): NormalizedResource {
  if (!isObject(body)) throw new ScimError(400, 'invalidSyntax', `the ${kind} must be a JSON object`);
  const type = resourceTypes[kind];
  const allowed = [type.schema, ...type.extensions];
  const out: NormalizedResource = { core: {}, extensions: {}, schemas: [] };
  const declared = body.schemas;
  if (declared !== undefined) {
    if (!Array.isArray(declared) || !declared.every((s) => typeof s === 'string')) throw new ScimError(400, 'invalidValue', 'schemas must be an array of schema URNs');
    for (const s of declared as string[]) {
      const known = allowed.find((a) => a.toLowerCase() === s.toLowerCase());
      if (!known) throw new ScimError(400, 'invalidValue', `schemas: ${s} is not a schema of ${kind} (use ${allowed.join(', ')})`);
      out.schemas.push(known);
    }
    if (!out.schemas.includes(type.schema)) throw new ScimError(400, 'invalidValue', `schemas must include ${type.schema}`);
  }
  const put = (schema: string, def: AttributeDef, value: Json) => {
    if (def.mutability === 'readOnly' && !options.keepReadOnly) return;
    const v = normalizeValue(def, value, def.name);
    const target = schema === type.schema ? out.core : (out.extensions[schema] ??= {});
    target[def.name] = v;
  };
  for (const [key, value] of Object.entries(body)) {
    if (key === 'schemas') continue;
    const lower = key.toLowerCase();
    // an extension's attributes, as an object under the extension's URN
    const ext = type.extensions.find((e) => e.toLowerCase() === lower);
    if (ext) {
      if (value === null) continue;
      if (!isObject(value)) throw new ScimError(400, 'invalidValue', `${key} must be an object of that extension's attributes`);
      for (const [k, v] of Object.entries(value)) {
        const def = findDef(schemaById.get(ext.toLowerCase())!.attributes, k);
        if (!def) throw new ScimError(400, 'invalidValue', `${ext} has no attribute "${k}"`);
        put(ext, def, v);
      }
      continue;
    }
    // a fully qualified attribute name
    const colon = key.lastIndexOf(':');
    if (colon > 0) {
      const schema = allowed.find((a) => a.toLowerCase() === key.slice(0, colon).toLowerCase());
      const def = schema ? findDef(schema === type.schema ? [...commonAttributes, ...schemaById.get(schema.toLowerCase())!.attributes] : schemaById.get(schema.toLowerCase())!.attributes, key.slice(colon + 1)) : undefined;
      if (!schema || !def) throw new ScimError(400, 'invalidValue', `"${key}" is not an attribute of ${kind}`);
      put(schema, def, value as Json);
      continue;
    }
    const common = findDef(commonAttributes, key);
    if (common) {
      put(type.schema, common, value as Json);
      continue;
    }
    const def = findDef(schemaById.get(type.schema.toLowerCase())!.attributes, key);
    if (!def) throw new ScimError(400, 'invalidValue', `"${key}" is not an attribute of ${kind} (see /scim/v2/Schemas/${type.schema})`);
    put(type.schema, def, value as Json);
  }
  return out;
}
