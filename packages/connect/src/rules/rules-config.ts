/**
 * Custom rules and filters in the agent's configuration (sync.rules,
 * sync.filter): checked when the file loads, so that a typo in an
 * expression or an attribute name is a configuration error naming the rule,
 * never a surprise in the middle of a sync.
 */
import { z } from 'zod';
import { attributeSchemas, objectTypes, type ObjectType } from '@skybridge/protocol';
import { compileExpression, ExpressionSyntaxError } from './expression/compile.ts';

/** How a rule's value becomes a cloud attribute. */
export type TargetKind = 'text' | 'boolean' | 'list';

/** The kind of a cloud attribute, or null when rules cannot set it (typed lists, references). */
export function targetKind(type: ObjectType, attribute: string): TargetKind | null {
  if (attribute === 'managerId') return null; // a cloud object id, not a value AD holds
  const shape = attributeSchemas[type].shape as Record<string, z.ZodType>;
  type Def = { type: string; innerType?: unknown; element?: unknown };
  const defOf = (x: unknown): Def => (x as { _zod: { def: Def } })._zod.def;
  let def: Def | null = shape[attribute] ? defOf(shape[attribute]) : null;
  while (def?.type === 'optional') def = defOf(def.innerType);
  if (def?.type === 'string') return 'text';
  if (def?.type === 'boolean') return 'boolean';
  if (def?.type === 'array') return defOf(def.element).type === 'string' ? 'list' : null;
  return null;
}

const expression = z.string().trim().min(1).superRefine((source, ctx) => {
  try {
    compileExpression(source);
  } catch (err) {
    if (!(err instanceof ExpressionSyntaxError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
  }
});

export const ruleSchema = z.strictObject({
  /** shown by skybridge connect preview and in rule errors */
  name: z.string().trim().min(1).max(100),
  objectType: z.enum(objectTypes),
  /** lower wins; the default rules stand behind every custom rule (precedence 1000) */
  precedence: z.number().int().min(1).max(999),
  /** the rule applies to the objects for which this is true (default: every object of its type) */
  scope: expression.optional(),
  /** cloud attribute → expression; null leaves the attribute to a lower-precedence rule, AuthoritativeNull() clears it */
  attributes: z.record(z.string(), expression),
});
export type RuleConfig = z.infer<typeof ruleSchema>;

export const filterSchema = z.strictObject({
  /** group-based filtering: only direct members of these groups (and the groups themselves) are synchronized */
  groups: z.array(z.string().trim().regex(/^[A-Za-z][\w-]*=/, 'must be the distinguished name of a group')).default([]),
  /** attribute filtering: objects for which any of these expressions is true are not synchronized */
  exclude: z.array(expression).default([]),
});
export type FilterConfig = z.infer<typeof filterSchema>;

export const rulesSchema = z.array(ruleSchema).default([]).superRefine((rules, ctx) => {
  const seen = new Map<string, string>();
  rules.forEach((rule, i) => {
    const key = `${rule.objectType}/${rule.precedence}`;
    const other = seen.get(key);
    if (other) ctx.addIssue({ code: 'custom', path: [i, 'precedence'], message: `rule "${rule.name}" has the same precedence (${rule.precedence}) as rule "${other}" for ${rule.objectType}s: give each rule of a type its own precedence` });
    seen.set(key, rule.name);
    if (Object.keys(rule.attributes).length === 0) ctx.addIssue({ code: 'custom', path: [i, 'attributes'], message: `rule "${rule.name}" sets no attribute` });
    for (const attribute of Object.keys(rule.attributes)) {
      if (!targetKind(rule.objectType, attribute)) {
        const settable = Object.keys(attributeSchemas[rule.objectType].shape).filter((a) => targetKind(rule.objectType, a));
        ctx.addIssue({ code: 'custom', path: [i, 'attributes', attribute], message: `rule "${rule.name}": a ${rule.objectType} has no cloud attribute ${attribute} that rules can set (they can set: ${settable.join(', ')})` });
      }
    }
  });
});
