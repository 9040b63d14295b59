/**
 * SCIM filters compiled to SQL over directory_objects (alias `o`), so that the
 * database evaluates them with its indexes: userName, externalId, id,
 * displayName, meta.lastModified and group membership are indexed; other
 * attributes are read from the attributes document. Every leaf is
 * null-safe (a missing attribute is "false", so `not (…)` matches it), as
 * RFC 7644 §3.4.2.2 asks.
 */
import { ScimError } from '../errors.ts';
import { resolveAttribute, schemaUris, type AttributeDef, type ResourceKind } from '../schemas.ts';
import type { AttrPath, CompareOp, CompValue, Filter } from './parse.ts';

type ScalarType = 'text' | 'bool' | 'time' | 'uuid' | 'int';

/** How one SCIM attribute (or sub-attribute) reads in SQL. */
type Column =
  | { kind: 'scalar'; sql: string; type: ScalarType; caseExact: boolean }
  | { kind: 'elements'; source: string; strings: boolean; subs: Record<string, { type: ScalarType; caseExact: boolean }> }
  | { kind: 'links'; side: 'members' | 'groups' }
  | { kind: 'schemas' }
  | { kind: 'constant'; value: string };

const attr = (key: string) => `(o.attributes->>'${key}')`;
const text = (sql: string, caseExact = false): Column => ({ kind: 'scalar', sql, type: 'text', caseExact });

const typed = (caseExactValue = false) => ({ value: { type: 'text' as const, caseExact: caseExactValue }, type: { type: 'text' as const, caseExact: false }, display: { type: 'text' as const, caseExact: false }, primary: { type: 'bool' as const, caseExact: false } });
const jsonList = (key: string) => `COALESCE(o.attributes->'${key}', '[]'::jsonb)`;

/** Derived lists, as the SCIM view presents them (resources.ts): stored whole, or built from the directory's fields. */
const emailsSql = `COALESCE(o.attributes->'emails', CASE WHEN o.mail IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_object('value', o.mail, 'type', 'work', 'primary', true)) END)`;
const phonesSql = `COALESCE(o.attributes->'phoneNumbers',
  CASE WHEN o.attributes ? 'telephoneNumber' THEN jsonb_build_array(jsonb_build_object('value', o.attributes->>'telephoneNumber', 'type', 'work')) ELSE '[]'::jsonb END
  || CASE WHEN o.attributes ? 'mobile' THEN jsonb_build_array(jsonb_build_object('value', o.attributes->>'mobile', 'type', 'mobile')) ELSE '[]'::jsonb END)`;
const addressesSql = `COALESCE(o.attributes->'addresses', CASE WHEN o.attributes ?| array['streetAddress','city','state','postalCode','country']
  THEN jsonb_build_array(jsonb_strip_nulls(jsonb_build_object('type', 'work', 'primary', true, 'streetAddress', o.attributes->>'streetAddress', 'locality', o.attributes->>'city',
    'region', o.attributes->>'state', 'postalCode', o.attributes->>'postalCode', 'country', o.attributes->>'country'))) ELSE '[]'::jsonb END)`;
const addressSubs = Object.fromEntries(['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country', 'type'].map((k) => [k, { type: 'text' as const, caseExact: false }]));

const onPremises: Record<string, Column> = {
  onpremisessyncenabled: { kind: 'scalar', sql: `(o.source = 'onprem')`, type: 'bool', caseExact: false },
  onpremisesdistinguishedname: text(attr('onPremisesDistinguishedName')),
  onpremisessecurityidentifier: text(attr('onPremisesSecurityIdentifier'), true),
  onpremisessamaccountname: text(attr('onPremisesSamAccountName')),
  onpremisesdomainname: text(attr('onPremisesDomainName')),
  onpremiseslastsyncdatetime: { kind: 'scalar', sql: 'o.last_sync_at', type: 'time', caseExact: false },
  mailnickname: text(attr('mailNickname')),
  proxyaddresses: { kind: 'elements', source: jsonList('proxyAddresses'), strings: true, subs: { value: { type: 'text', caseExact: false } } },
};

const common: Record<string, Column> = {
  id: { kind: 'scalar', sql: 'o.id', type: 'uuid', caseExact: true },
  externalid: text('o.immutable_id', true),
  'meta.created': { kind: 'scalar', sql: 'o.created_at', type: 'time', caseExact: false },
  'meta.lastmodified': { kind: 'scalar', sql: 'o.updated_at', type: 'time', caseExact: false },
  'meta.version': text(`('W/"' || o.version || '"')`, true),
  schemas: { kind: 'schemas' },
};

const userColumns: Record<string, Column> = {
  ...common,
  'meta.resourcetype': { kind: 'constant', value: 'User' },
  username: text('o.upn'),
  'name.formatted': text(attr('formattedName')),
  'name.familyname': text(attr('surname')),
  'name.givenname': text(attr('givenName')),
  'name.middlename': text(attr('middleName')),
  'name.honorificprefix': text(attr('honorificPrefix')),
  'name.honorificsuffix': text(attr('honorificSuffix')),
  displayname: text('o.display_name'),
  nickname: text(attr('nickName')),
  profileurl: text(attr('profileUrl')),
  title: text(attr('jobTitle')),
  usertype: text(attr('userType')),
  preferredlanguage: text(attr('preferredLanguage')),
  locale: text(attr('locale')),
  timezone: text(attr('timezone')),
  active: { kind: 'scalar', sql: 'o.account_enabled', type: 'bool', caseExact: false },
  emails: { kind: 'elements', source: emailsSql, strings: false, subs: typed() },
  phonenumbers: { kind: 'elements', source: phonesSql, strings: false, subs: typed() },
  ims: { kind: 'elements', source: jsonList('ims'), strings: false, subs: typed() },
  photos: { kind: 'elements', source: jsonList('photos'), strings: false, subs: typed(true) },
  entitlements: { kind: 'elements', source: jsonList('entitlements'), strings: false, subs: typed() },
  roles: { kind: 'elements', source: jsonList('roles'), strings: false, subs: typed() },
  x509certificates: { kind: 'elements', source: jsonList('x509Certificates'), strings: false, subs: typed(true) },
  addresses: { kind: 'elements', source: addressesSql, strings: false, subs: { ...addressSubs, primary: { type: 'bool', caseExact: false } } },
  groups: { kind: 'links', side: 'groups' },
  employeenumber: text(attr('employeeId')),
  costcenter: text(attr('costCenter')),
  organization: text(attr('companyName')),
  division: text(attr('division')),
  department: text(attr('department')),
  'manager.value': text(attr('managerId'), true),
  ...onPremises,
  usagelocation: text('o.usage_location', true),
};

const groupColumns: Record<string, Column> = {
  ...common,
  'meta.resourcetype': { kind: 'constant', value: 'Group' },
  displayname: text('o.display_name'),
  members: { kind: 'links', side: 'members' },
  ...onPremises,
  description: text(attr('description')),
  mail: text('o.mail'),
  mailenabled: { kind: 'scalar', sql: `(o.attributes->>'mailEnabled')::boolean`, type: 'bool', caseExact: false },
  securityenabled: { kind: 'scalar', sql: `(o.attributes->>'securityEnabled')::boolean`, type: 'bool', caseExact: false },
};

const enterpriseKeys = ['employeeId', 'costCenter', 'companyName', 'division', 'department', 'managerId'];

/** Collects parameters as $n placeholders. */
export class SqlParams {
  readonly values: unknown[];
  constructor(initial: unknown[] = []) {
    this.values = [...initial];
  }
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

interface Resolved {
  column: Column;
  sub: string | undefined;
  label: string;
  def: AttributeDef;
}

function resolve(kind: ResourceKind, path: AttrPath): Resolved {
  const label = `${path.schema ? `${path.schema}:` : ''}${path.attr}${path.sub ? `.${path.sub}` : ''}`;
  if (path.attr.toLowerCase() === 'schemas' && !path.schema) {
    return { column: { kind: 'schemas' }, sub: undefined, label, def: { name: 'schemas', type: 'reference', multiValued: true, description: '', required: false, caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'none' } };
  }
  const found = resolveAttribute(kind, path);
  if (!found) throw new ScimError(400, 'invalidFilter', `the filter names ${label}, which is not an attribute of ${kind} (see /scim/v2/Schemas)`);
  const columns = kind === 'User' ? userColumns : groupColumns;
  const name = found.def.name.toLowerCase();
  const sub = found.sub?.name;
  const direct = columns[sub ? `${name}.${sub.toLowerCase()}` : name];
  if (direct) return { column: direct, sub: undefined, label, def: found.sub ?? found.def };
  const parent = columns[name];
  if (parent && sub) return { column: parent, sub, label, def: found.sub! };
  if (found.def.type === 'complex' && !sub) throw new ScimError(400, 'invalidFilter', `${label} is complex: filter on one of its sub-attributes (${found.def.subAttributes!.map((s) => `${found.def.name}.${s.name}`).join(', ')})`);
  throw new ScimError(400, 'invalidFilter', `${label} cannot be used in a filter`);
}

const escapeLike = (v: string) => v.replace(/[\\%_]/g, (c) => `\\${c}`);

/** One comparison of a scalar SQL expression. Never NULL. */
function compare(sql: string, type: ScalarType, caseExact: boolean, op: CompareOp | 'pr', value: CompValue, p: SqlParams, label: string): string {
  if (op === 'pr') return type === 'text' ? `(${sql} IS NOT NULL AND ${sql} <> '')` : `(${sql} IS NOT NULL)`;
  if (value === null) {
    if (op === 'eq') return `(${sql} IS NULL${type === 'text' ? ` OR ${sql} = ''` : ''})`;
    if (op === 'ne') return compare(sql, type, caseExact, 'pr', null, p, label);
    throw new ScimError(400, 'invalidFilter', `${label} ${op} null: null can only be compared with eq or ne`);
  }
  const sqlOp = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' } as Record<string, string>;
  // Null-safe without COALESCE, so that the planner still sees `lower(o.upn) = …` and can use an index
  // (and `o.upn IS NOT NULL` lets it use the partial ones).
  const wrap = (cond: string) => (op === 'ne' ? `(${sql} IS NULL OR ${cond})` : `(${sql} IS NOT NULL AND ${cond})`);
  switch (type) {
    case 'bool':
      if (typeof value !== 'boolean' || (op !== 'eq' && op !== 'ne')) throw new ScimError(400, 'invalidFilter', `${label} is a boolean: compare it with eq or ne and true or false`);
      return wrap(`${sql} ${sqlOp[op]} ${p.add(value)}`);
    case 'time': {
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw new ScimError(400, 'invalidFilter', `${label} is a dateTime: compare it with a quoted xsd:dateTime such as "2011-05-13T04:42:34Z"`);
      if (!(op in sqlOp)) throw new ScimError(400, 'invalidFilter', `${label} is a dateTime: use eq, ne, gt, ge, lt or le`);
      return wrap(`${sql} ${sqlOp[op]} ${p.add(new Date(value).toISOString())}::timestamptz`);
    }
    case 'int':
      if (typeof value !== 'number' || !(op in sqlOp)) throw new ScimError(400, 'invalidFilter', `${label} is a number: use eq, ne, gt, ge, lt or le with a number`);
      return wrap(`${sql} ${sqlOp[op]} ${p.add(value)}`);
    case 'uuid':
      if (op === 'eq' || op === 'ne') {
        const v = String(value);
        // an id that is not a UUID names nothing (and must not make PostgreSQL fail)
        if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)) return op === 'eq' ? 'false' : 'true';
        return wrap(`${sql} ${sqlOp[op]} ${p.add(v.toLowerCase())}::uuid`);
      }
      return compare(`${sql}::text`, 'text', true, op, value, p, label);
    default: {
      const v = typeof value === 'string' ? value : String(value);
      const lhs = caseExact ? sql : `lower(${sql})`;
      const param = (x: string) => (caseExact ? p.add(x) : `lower(${p.add(x)})`);
      if (op === 'co') return wrap(`${lhs} LIKE '%' || ${param(escapeLike(v))} || '%'`);
      if (op === 'sw') return wrap(`${lhs} LIKE ${param(escapeLike(v))} || '%'`);
      if (op === 'ew') return wrap(`${lhs} LIKE '%' || ${param(escapeLike(v))}`);
      return wrap(`${lhs} ${sqlOp[op]} ${param(v)}`);
    }
  }
}

type Leaf = Exclude<Filter, { op: 'and' | 'or' | 'not' }>;

/** and, or and not as SQL, with `leaf` for everything else. */
function logic(f: Filter, leaf: (f: Leaf) => string): string {
  if (f.op === 'and' || f.op === 'or') return `(${logic(f.left, leaf)} ${f.op.toUpperCase()} ${logic(f.right, leaf)})`;
  if (f.op === 'not') return `(NOT ${logic(f.filter, leaf)})`;
  return leaf(f as Leaf);
}

const nested = (label: string) => new ScimError(400, 'invalidFilter', `value filters cannot be nested (in ${label})`);

/** A predicate over one element `e.v` of a multi-valued attribute. */
function elementPredicate(column: Extract<Column, { kind: 'elements' }>, f: Filter, p: SqlParams, label: string): string {
  return logic(f, (g) => {
    if (g.op === 'valuePath') throw nested(label);
    const name = g.path.sub ? g.path.sub : g.path.attr;
    if (g.path.sub && g.path.attr.toLowerCase() !== label.split(/[.[]/)[0]!.toLowerCase()) {
      throw new ScimError(400, 'invalidFilter', `inside ${label}[…] name the sub-attributes alone (value, type…), not ${g.path.attr}.${g.path.sub}`);
    }
    return elementLeaf(column, name, g.op, g.op === 'pr' ? null : g.value, p, `${label}.${name}`);
  });
}

function elementLeaf(column: Extract<Column, { kind: 'elements' }>, sub: string, op: CompareOp | 'pr', value: CompValue, p: SqlParams, label: string): string {
  const key = Object.keys(column.subs).find((k) => k.toLowerCase() === sub.toLowerCase());
  if (!key) throw new ScimError(400, 'invalidFilter', `${label}: no such sub-attribute (use ${Object.keys(column.subs).join(', ')})`);
  const info = column.subs[key]!;
  const sql = column.strings ? `(e.v #>> '{}')` : info.type === 'bool' ? `(e.v->>'${key}')::boolean` : `(e.v->>'${key}')`;
  return compare(sql, info.type, info.caseExact, op, value, p, label);
}

function exists(column: Extract<Column, { kind: 'elements' }>, predicate: string): string {
  return `EXISTS (SELECT 1 FROM jsonb_array_elements(${column.source}) AS e(v) WHERE ${predicate})`;
}

/** A condition on the linked object `x` (a member, or a group of a user): value, display and type. */
export function linkPredicate(side: 'members' | 'groups', f: Filter, p: SqlParams, label: string): string {
  return logic(f, (g) => {
    if (g.op === 'valuePath') throw nested(label);
    const sub = (g.path.sub ?? (g.path.attr.toLowerCase() === side ? 'value' : g.path.attr)).toLowerCase();
    const value = g.op === 'pr' ? null : g.value;
    if (sub === 'value') return compare('x.id', 'uuid', true, g.op, value, p, `${label}.value`);
    if (sub === 'display') return compare('x.display_name', 'text', false, g.op, value, p, `${label}.display`);
    if (sub === 'type') return compare(`(CASE x.object_type WHEN 'user' THEN 'User' WHEN 'group' THEN 'Group' ELSE 'Contact' END)`, 'text', false, g.op, value, p, `${label}.type`);
    throw new ScimError(400, 'invalidFilter', `${label}.${sub} cannot be used in a filter (use value, display or type)`);
  });
}

/** members (of a group) or groups (of a user): a semi-join on memberships, by primary key or member index. */
function links(side: 'members' | 'groups', f: Filter | null, p: SqlParams, label: string): string {
  const [self, other] = side === 'members' ? ['group_id', 'member_id'] : ['member_id', 'group_id'];
  const base = `SELECT 1 FROM memberships m WHERE m.${self} = o.id AND m.tenant_id = o.tenant_id AND NOT m.removed`;
  if (!f) return `EXISTS (${base})`;
  // value eq <id>: the link's primary key, no join
  if (f.op === 'eq' && (f.path.sub ?? 'value').toLowerCase() === 'value' && typeof f.value === 'string') {
    if (!/^[0-9a-f-]{36}$/i.test(f.value)) return 'false';
    return `EXISTS (${base} AND m.${other} = ${p.add(f.value.toLowerCase())}::uuid)`;
  }
  return `EXISTS (${base} AND EXISTS (SELECT 1 FROM directory_objects x WHERE x.id = m.${other} AND x.deleted_at IS NULL AND ${linkPredicate(side, f, p, label)}))`;
}

/** Compiles a filter to a SQL condition on `o`. */
export function filterToSql(kind: ResourceKind, filter: Filter, p: SqlParams): string {
  return logic(filter, (f) => attributeCondition(kind, f, p));
}

function attributeCondition(kind: ResourceKind, f: Leaf, p: SqlParams): string {
  switch (f.op) {
    case 'valuePath': {
      const r = resolve(kind, f.path);
      if (r.column.kind === 'links') return links(r.column.side, f.filter, p, r.label);
      if (r.column.kind !== 'elements') throw new ScimError(400, 'invalidFilter', `${r.label}[…]: value filters apply to multi-valued attributes`);
      return exists(r.column, elementPredicate(r.column, f.filter, p, r.label));
    }
    default: {
      const r = resolve(kind, f.path);
      const value = f.op === 'pr' ? null : f.value;
      switch (r.column.kind) {
        case 'scalar':
          return compare(r.column.sql, r.column.type, r.column.caseExact, f.op, value, p, r.label);
        case 'constant':
          return compare(p.add(r.column.value), 'text', false, f.op, value, p, r.label);
        case 'elements':
          if (f.op === 'pr' && !r.sub) return `(jsonb_array_length(${r.column.source}) > 0)`;
          // A multi-valued attribute named alone compares its values (RFC 7643 §2.4)
          return exists(r.column, elementLeaf(r.column, r.sub ?? 'value', f.op, value, p, r.label));
        case 'links':
          if (f.op === 'pr' && !r.sub) return links(r.column.side, null, p, r.label);
          return links(r.column.side, { ...f, path: { attr: r.column.side, sub: r.sub ?? 'value' } } as Filter, p, r.label);
        case 'schemas': {
          if (f.op === 'pr') return 'true';
          if (f.op !== 'eq' && f.op !== 'ne') throw new ScimError(400, 'invalidFilter', 'schemas can be compared with eq or ne only');
          const uri = String(value).toLowerCase();
          let has: string;
          if (uri === schemaUris.enterprise.toLowerCase()) has = kind === 'User' ? `(o.attributes ?| array[${enterpriseKeys.map((k) => `'${k}'`).join(',')}])` : 'false';
          else if ([kind === 'User' ? schemaUris.user : schemaUris.group, kind === 'User' ? schemaUris.skybridgeUser : schemaUris.skybridgeGroup].some((s) => s.toLowerCase() === uri)) has = 'true';
          else has = 'false';
          return f.op === 'eq' ? has : `(NOT ${has})`;
        }
      }
    }
  }
}

/** The SQL expression to sort by an attribute (a multi-valued one sorts by its primary value). */
export function sortExpression(kind: ResourceKind, path: AttrPath): { sql: string; label: string } {
  const r = resolve(kind, path);
  const c = r.column;
  if (c.kind === 'scalar') {
    const sql = c.type === 'text' && !c.caseExact ? `lower(${c.sql})` : c.type === 'time' ? `to_char(${c.sql} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')` : `${c.sql}::text`;
    // code-point order ("C"), the same on every store and under every database locale
    return { sql: `(COALESCE(${sql}, '') COLLATE "C")`, label: r.label };
  }
  if (c.kind === 'elements') {
    const key = r.sub ?? 'value';
    const v = c.strings ? `(e.v #>> '{}')` : `(e.v->>'${key}')`;
    return { sql: `(COALESCE((SELECT lower(${v}) FROM jsonb_array_elements(${c.source}) AS e(v) ORDER BY (e.v->>'primary') = 'true' DESC NULLS LAST LIMIT 1), '') COLLATE "C")`, label: r.label };
  }
  if (c.kind === 'constant') return { sql: `'${c.value}'`, label: r.label };
  throw new ScimError(400, 'invalidValue', `sortBy ${r.label}: cannot sort by this attribute`);
}
