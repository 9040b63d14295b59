/**
 * A value filter evaluated on one element of a multi-valued attribute, for
 * PATCH paths such as `emails[type eq "work"]` (RFC 7644 §3.5.2). It works on
 * one resource already loaded; filters over a collection compile to SQL
 * (to-sql.ts).
 */
import { ScimError } from '../errors.ts';
import type { AttributeDef } from '../schemas.ts';
import type { CompareOp, CompValue, Filter } from './parse.ts';
import type { Json } from '../normalize.ts';

function compareValues(actual: Json | undefined, op: CompareOp | 'pr', expected: CompValue, def: AttributeDef | undefined): boolean {
  if (op === 'pr') return actual !== undefined && actual !== null && actual !== '' && !(Array.isArray(actual) && actual.length === 0);
  if (actual === undefined || actual === null) return expected === null ? op === 'eq' : op === 'ne';
  if (expected === null) return op === 'ne';
  if (def?.type === 'dateTime' && typeof actual === 'string' && typeof expected === 'string') {
    const a = Date.parse(actual);
    const b = Date.parse(expected);
    return cmp(a, b, op);
  }
  if (typeof actual === 'boolean' || typeof expected === 'boolean') {
    if (op !== 'eq' && op !== 'ne') throw new ScimError(400, 'invalidFilter', `${def?.name ?? 'a boolean'} can be compared with eq or ne only`);
    return (actual === expected) === (op === 'eq');
  }
  if (typeof actual === 'number' && typeof expected === 'number') return cmp(actual, expected, op);
  let a = String(actual);
  let b = String(expected);
  if (!def?.caseExact) {
    a = a.toLowerCase();
    b = b.toLowerCase();
  }
  switch (op) {
    case 'co': return a.includes(b);
    case 'sw': return a.startsWith(b);
    case 'ew': return a.endsWith(b);
    default: return cmp(a, b, op);
  }
}

function cmp<T extends string | number>(a: T, b: T, op: CompareOp): boolean {
  switch (op) {
    case 'eq': return a === b;
    case 'ne': return a !== b;
    case 'gt': return a > b;
    case 'ge': return a >= b;
    case 'lt': return a < b;
    case 'le': return a <= b;
    default: throw new ScimError(400, 'invalidFilter', `${op} compares strings`);
  }
}

/** Whether `element` (an object of sub-attributes, or a simple value) matches `f`. */
export function matchesElement(f: Filter, element: Json, parent: AttributeDef): boolean {
  switch (f.op) {
    case 'and': return matchesElement(f.left, element, parent) && matchesElement(f.right, element, parent);
    case 'or': return matchesElement(f.left, element, parent) || matchesElement(f.right, element, parent);
    case 'not': return !matchesElement(f.filter, element, parent);
    case 'valuePath': throw new ScimError(400, 'invalidPath', 'value filters cannot be nested');
    default: {
      const name = (f.path.sub ?? f.path.attr).toLowerCase();
      let actual: Json | undefined;
      let def: AttributeDef | undefined;
      if (element !== null && typeof element === 'object' && !Array.isArray(element)) {
        def = parent.subAttributes?.find((s) => s.name.toLowerCase() === name);
        if (!def) throw new ScimError(400, 'invalidPath', `${parent.name} has no sub-attribute "${f.path.sub ?? f.path.attr}"`);
        actual = Object.entries(element).find(([k]) => k.toLowerCase() === name)?.[1];
      } else {
        if (name !== 'value') throw new ScimError(400, 'invalidPath', `${parent.name} holds simple values: filter on "value"`);
        def = parent;
        actual = element;
      }
      return compareValues(actual, f.op, f.op === 'pr' ? null : f.value, def);
    }
  }
}
