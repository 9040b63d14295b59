/**
 * The rule expression language: parsed by jsep into a syntax tree, checked
 * once when the configuration loads (unknown functions, wrong argument
 * counts, unsupported syntax are configuration errors that name the rule),
 * then evaluated per object by walking the tree. Nothing is ever passed to
 * JavaScript's eval; an expression can read the object's attributes and call
 * the functions in functions.ts, nothing else.
 *
 *   Left(givenName, 1) & LCase(sn) & "@contoso.com"
 *   IIF(IsPresent(employeeID), "Employee", "Guest")
 *   department == "Sales" && !EndsWith(sAMAccountName, "-adm")
 *
 * Identifiers are Active Directory attribute names, case-insensitive, and
 * may contain hyphens (ms-DS-ConsistencyGuid); subtraction therefore needs
 * spaces around the minus. `dn` is the object's distinguished name. An
 * attribute with one value is text, with several a list, with none null.
 */
import jsep from 'jsep';
import { functions } from './functions.ts';
import { ExpressionError, isNull, looselyEqual, toBoolean, toList, toNumber, toText, type Value } from './values.ts';

jsep.addIdentifierChar('-');
// & concatenates text, as in Azure AD Connect, binding like +; the other bitwise and shift operators are not part of the language
jsep.removeBinaryOp('&');
jsep.addBinaryOp('&', 9);
for (const op of ['|', '^', '<<', '>>', '>>>', '===', '!==']) jsep.removeBinaryOp(op);
jsep.removeUnaryOp('~');

export interface ExpressionInput {
  dn: string;
  /** the values of an attribute (any case of its name), or undefined */
  attribute(name: string): string[] | undefined;
}

export type Evaluator = (input: ExpressionInput) => Value;

export class ExpressionSyntaxError extends Error {}

/** Parses and checks an expression; throws ExpressionSyntaxError with what is wrong and where. */
export function compileExpression(source: string): Evaluator {
  let tree: jsep.Expression;
  try {
    tree = jsep(source);
  } catch (err) {
    throw new ExpressionSyntaxError(`${(err as Error).message.replace(/ at character (\d+)/, (_m, i: string) => ` at character ${Number(i) + 1}`)} in ${JSON.stringify(source)}`);
  }
  return build(tree, source);
}

function build(node: jsep.Expression, source: string): Evaluator {
  const fail = (message: string): never => {
    throw new ExpressionSyntaxError(`${message} in ${JSON.stringify(source)}`);
  };
  switch (node.type) {
    case 'Literal': {
      const value = (node as jsep.Literal).value;
      if (value instanceof RegExp) return fail('regular expressions are not supported');
      return () => value as Value;
    }
    case 'Identifier': {
      const name = (node as jsep.Identifier).name;
      if (name.toLowerCase() === 'dn') return (input) => input.dn;
      return (input) => {
        const values = input.attribute(name);
        return !values || values.length === 0 ? null : values.length === 1 ? values[0]! : values;
      };
    }
    case 'ArrayExpression': {
      const items = (node as jsep.ArrayExpression).elements.map((e) => (e ? build(e, source) : fail('a list cannot have holes')));
      return (input) => {
        const out = items.flatMap((f) => toList(f(input)));
        return out.length ? out : null;
      };
    }
    case 'CallExpression': {
      const call = node as jsep.CallExpression;
      if (call.callee.type !== 'Identifier') return fail('only functions can be called, such as Left(givenName, 1)');
      const name = (call.callee as jsep.Identifier).name;
      const def = functions[name.toLowerCase()];
      if (!def) return fail(`there is no function ${name}() (see docs/sync-rules.md for the list)`);
      const [min, max] = def.arity;
      const n = call.arguments.length;
      if (n < min || n > max) return fail(`${name}() takes ${min === max ? min : max === Infinity ? `at least ${min}` : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, not ${n}`);
      const args = call.arguments.map((a) => build(a, source));
      if (def.lazy) return (input) => def.callLazy!(args.map((a) => () => a(input)));
      return (input) => def.call(args.map((a) => a(input)));
    }
    case 'UnaryExpression': {
      const u = node as jsep.UnaryExpression;
      const arg = build(u.argument, source);
      if (u.operator === '!') return (input) => !toBoolean(arg(input));
      if (u.operator === '-') return (input) => -toNumber(arg(input), 'the operand of -');
      if (u.operator === '+') return (input) => toNumber(arg(input), 'the operand of +');
      return fail(`the operator ${u.operator} is not supported`);
    }
    case 'BinaryExpression': {
      const b = node as jsep.BinaryExpression;
      const left = build(b.left, source);
      const right = build(b.right, source);
      switch (b.operator) {
        case '&': return (input) => concat(left(input), right(input));
        case '+': return (input) => {
          const l = left(input);
          const r = right(input);
          return typeof l === 'number' && typeof r === 'number' ? l + r : concat(l, r);
        };
        case '-': return (input) => toNumber(left(input), 'the left of -') - toNumber(right(input), 'the right of -');
        case '*': return (input) => toNumber(left(input), 'the left of *') * toNumber(right(input), 'the right of *');
        case '/': return (input) => toNumber(left(input), 'the left of /') / toNumber(right(input), 'the right of /');
        case '%': return (input) => toNumber(left(input), 'the left of %') % toNumber(right(input), 'the right of %');
        case '==': return (input) => looselyEqual(left(input), right(input));
        case '!=': return (input) => !looselyEqual(left(input), right(input));
        case '<': case '>': case '<=': case '>=': return (input) => compare(b.operator, left(input), right(input));
        case '&&': return (input) => toBoolean(left(input)) && toBoolean(right(input));
        case '||': return (input) => toBoolean(left(input)) || toBoolean(right(input));
        default: return fail(`the operator ${b.operator} is not supported`);
      }
    }
    case 'ConditionalExpression': {
      const c = node as jsep.ConditionalExpression;
      const test = build(c.test, source);
      const yes = build(c.consequent, source);
      const no = build(c.alternate, source);
      return (input) => (toBoolean(test(input)) ? yes(input) : no(input));
    }
    case 'MemberExpression':
      return fail('. and [ ] are not supported: pick a value of a list with Item(list, n)');
    case 'Compound':
      return fail('an expression is one expression: join texts with &, conditions with && or ||');
    default:
      return fail(`${node.type} is not supported`);
  }
}

/** Text concatenation; null is empty, and null & null is null. */
function concat(a: Value, b: Value): Value {
  if (isNull(a) && isNull(b)) return null;
  return (toText(a) ?? '') + (toText(b) ?? '');
}

function compare(op: string, a: Value, b: Value): boolean {
  if (isNull(a) || isNull(b)) return false;
  const na = Number(toText(a));
  const nb = Number(toText(b));
  const c = Number.isFinite(na) && Number.isFinite(nb) ? na - nb : toText(a)!.localeCompare(toText(b)!, undefined, { sensitivity: 'accent' });
  return op === '<' ? c < 0 : op === '>' ? c > 0 : op === '<=' ? c <= 0 : c >= 0;
}

export { ExpressionError };
