/**
 * The rules the planner runs on every object: the default rules
 * (default-rules.ts, after Azure AD Connect's), then the filters, then the
 * administrator's custom rules by precedence. For each cloud attribute the
 * custom rule of lowest precedence number whose scope holds gives the value;
 * a rule whose expression is null leaves it to the next rule (the defaults
 * last), AuthoritativeNull() clears it.
 */
import { createHash } from 'node:crypto';
import type { ObjectType } from '@skybridge/protocol';
import type { SpaceObject } from '../space/connector-space.ts';
import { project as projectDefault, type Projection, type RuleContext } from './default-rules.ts';
import { compileExpression, type Evaluator, type ExpressionInput } from './expression/compile.ts';
import { authoritativeNull, ExpressionError, toBoolean, toList, toText, type Value } from './expression/values.ts';
import { targetKind, type FilterConfig, type RuleConfig } from './rules-config.ts';

export interface RuleSetConfig {
  rules?: RuleConfig[];
  filter?: FilterConfig;
}

/** Which rule gave each exported attribute ('default' for the default rules). */
export type Sources = Record<string, string>;
export type RuledProjection = Projection & { sources?: Sources };

interface CompiledRule {
  name: string;
  type: ObjectType;
  precedence: number;
  scope: Evaluator | null;
  attributes: { name: string; kind: NonNullable<ReturnType<typeof targetKind>>; value: Evaluator }[];
}

export class RuleSet {
  readonly context: RuleContext;
  /** Changes when the rules or filters change: the engine then plans every object again. */
  readonly fingerprint: string;
  readonly filterGroupDns: readonly string[];
  readonly #rules: CompiledRule[];
  readonly #exclude: { source: string; test: Evaluator }[];
  /** is this object (by DN) a direct member of a filter group, or one of them? Set by the engine when filter groups are configured. */
  #inFilterGroups: ((o: SpaceObject) => boolean) | null = null;

  constructor(context: RuleContext, config: RuleSetConfig = {}) {
    this.context = context;
    const rules = config.rules ?? [];
    const filter = config.filter ?? { groups: [], exclude: [] };
    this.fingerprint = createHash('sha256').update(JSON.stringify({ rules, filter })).digest('base64url');
    this.filterGroupDns = filter.groups;
    this.#rules = rules
      .map((r) => ({
        name: r.name, type: r.objectType, precedence: r.precedence,
        scope: r.scope ? compileExpression(r.scope) : null,
        attributes: Object.entries(r.attributes).map(([name, source]) => ({ name, kind: targetKind(r.objectType, name)!, value: compileExpression(source) })),
      }))
      .sort((a, b) => a.precedence - b.precedence);
    this.#exclude = filter.exclude.map((source) => ({ source, test: compileExpression(source) }));
  }

  get hasCustomRules(): boolean {
    return this.#rules.length > 0 || this.#exclude.length > 0 || this.filterGroupDns.length > 0;
  }

  useFilterGroups(inFilterGroups: (o: SpaceObject) => boolean): void {
    this.#inFilterGroups = inFilterGroups;
  }

  project(o: SpaceObject): RuledProjection {
    const base = projectDefault(o, this.context);
    if (base.kind !== 'export') return base;
    const input: ExpressionInput = { dn: o.dn, attribute: (name) => attributeOf(o, name) };
    if (this.#inFilterGroups && !this.#inFilterGroups(o)) return { kind: 'skip', reason: 'not-in-filter-groups' };
    for (const f of this.#exclude) {
      try {
        if (toBoolean(f.test(input))) return { kind: 'skip', reason: `filtered: ${f.source}` };
      } catch (err) {
        return failure(o, `the filter ${JSON.stringify(f.source)}`, 'filter', err);
      }
    }
    const attributes: Record<string, unknown> = { ...base.attributes };
    const sources: Sources = Object.fromEntries(Object.keys(attributes).map((k) => [k, 'default']));
    const decided = new Set<string>();
    for (const rule of this.#rules) {
      if (rule.type !== base.type) continue;
      try {
        if (rule.scope && !toBoolean(rule.scope(input))) continue;
      } catch (err) {
        return failure(o, `the scope of rule "${rule.name}"`, 'scope', err);
      }
      for (const a of rule.attributes) {
        if (decided.has(a.name)) continue;
        let value: Value;
        try {
          value = a.value(input);
        } catch (err) {
          return failure(o, `rule "${rule.name}" for ${a.name}`, a.name, err);
        }
        if (value === null) continue;
        decided.add(a.name);
        let converted: unknown;
        try {
          converted = value === authoritativeNull ? undefined : convert(value, a.kind);
        } catch (err) {
          return failure(o, `rule "${rule.name}" for ${a.name}`, a.name, err);
        }
        if (converted === undefined) delete attributes[a.name];
        else attributes[a.name] = converted;
        sources[a.name] = rule.name;
      }
    }
    for (const k of Object.keys(sources)) if (!(k in attributes)) delete sources[k];
    if (base.type === 'user' && typeof attributes.userPrincipalName !== 'string') {
      return { kind: 'error', code: 'missing_upn', attribute: 'userPrincipalName', message: `${o.dn}: the rules give no userPrincipalName (rule "${sources.userPrincipalName ?? 'default'}"): a user needs one to sign in to the cloud` };
    }
    return { kind: 'export', type: base.type, attributes, sources };
  }
}

/** An attribute's values by any case of its name. */
function attributeOf(o: SpaceObject, name: string): string[] | undefined {
  const direct = o.attributes[name];
  if (direct) return direct;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(o.attributes)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function convert(value: Value, kind: 'text' | 'boolean' | 'list'): unknown {
  if (kind === 'boolean') return toBoolean(value);
  if (kind === 'list') {
    const list = toList(value);
    return list.length ? list : undefined;
  }
  const t = toText(value);
  return t === null || t === '' ? undefined : t;
}

function failure(o: SpaceObject, where: string, attribute: string, err: unknown): Projection {
  if (!(err instanceof ExpressionError)) throw err;
  return { kind: 'error', code: 'rule_expression_failed', attribute, message: `${o.dn}: ${where}: ${err.message}` };
}
