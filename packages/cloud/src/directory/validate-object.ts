import { attributeLengthLimits, attributeSchemas, type ObjectType, type Quotas, type SyncErrorCategory } from '@skybridge/protocol';

export interface ObjectError {
  category: SyncErrorCategory;
  code: string;
  message: string;
  attribute?: string;
}

export type Validated = { ok: true; attributes: Record<string, unknown> } | { ok: false; error: ObjectError };

/**
 * Checks one object's attributes against its schema and the tenant's quotas.
 * The message names the attribute and says what to fix.
 */
export function validateObject(type: ObjectType, raw: unknown, quotas: Quotas): Validated {
  const parsed = attributeSchemas[type].safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const attribute = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.map(String).join('.');
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown attribute${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} for a ${type}: map ${issue.keys.length > 1 ? 'them' : 'it'} to a cloud attribute or leave ${issue.keys.length > 1 ? 'them' : 'it'} out`
        : `${attribute || 'attributes'}: ${issue.message}`;
    return { ok: false, error: { category: 'data_validation', code: 'invalid_attribute', message, ...(attribute ? { attribute } : {}) } };
  }
  const attributes = parsed.data as Record<string, unknown>;
  for (const [name, value] of Object.entries(attributes)) {
    const values = Array.isArray(value) ? value : [value];
    if (values.length > quotas.maxValuesPerAttribute) {
      return { ok: false, error: { category: 'large_object', code: 'too_many_values', attribute: name, message: `${name} has ${values.length} values; at most ${quotas.maxValuesPerAttribute} are allowed: remove some values on-premises` } };
    }
    const limit = attributeLengthLimits[name] ?? quotas.maxStringLength;
    for (const v of values) {
      if (typeof v !== 'string') continue;
      if (v.length > limit) {
        return { ok: false, error: { category: 'data_validation', code: 'value_too_long', attribute: name, message: `${name} is ${v.length} characters long; at most ${limit} are allowed: shorten it on-premises` } };
      }
      if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(v) || /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(v)) {
        return { ok: false, error: { category: 'data_validation', code: 'invalid_characters', attribute: name, message: `${name} contains control characters or broken UTF-16: correct the value on-premises` } };
      }
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(attributes));
  if (bytes > quotas.maxObjectBytes) {
    return { ok: false, error: { category: 'large_object', code: 'object_too_large', message: `the object's attributes take ${bytes} bytes; at most ${quotas.maxObjectBytes} are allowed: remove values from its multi-valued attributes` } };
  }
  return { ok: true, attributes };
}
