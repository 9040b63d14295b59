/**
 * SCIM errors (RFC 7644 §3.12): a JSON body with the Error schema, the HTTP
 * status as a string, and a `scimType` for 400 and 409 errors. The cloud's
 * own errors (SkybridgeError) raised under /scim/v2 are turned into these.
 */
import { SkybridgeError } from '../http/problem.ts';

export const scimErrorSchema = 'urn:ietf:params:scim:api:messages:2.0:Error';

export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimType | undefined;

  constructor(status: number, scimType: ScimType | undefined, detail: string) {
    super(detail);
    this.name = 'ScimError';
    this.status = status;
    this.scimType = scimType;
  }

  toBody(): Record<string, unknown> {
    return { schemas: [scimErrorSchema], status: String(this.status), ...(this.scimType ? { scimType: this.scimType } : {}), detail: this.message };
  }
}

export const scimContentType = 'application/scim+json';

/** The SCIM form of any error raised while serving /scim/v2. */
export function toScimError(err: unknown): ScimError | null {
  if (err instanceof ScimError) return err;
  if (!(err instanceof SkybridgeError)) return null;
  switch (err.code) {
    case 'invalid_json':
      return new ScimError(400, 'invalidSyntax', err.message);
    case 'invalid_request':
    case 'unknown_field':
      return new ScimError(400, 'invalidValue', err.message);
    case 'already_exists':
      return new ScimError(409, 'uniqueness', err.message);
    case 'read_only_synced_object':
      return new ScimError(400, 'mutability', err.message);
    case 'quota_exceeded':
      return new ScimError(400, 'invalidValue', err.message);
    case 'body_too_large':
      return new ScimError(413, undefined, err.message);
    case 'unsupported_media_type':
      return new ScimError(415, undefined, err.message);
    default:
      return new ScimError(err.status, undefined, err.message);
  }
}

export function scimErrorResponse(err: ScimError, extraHeaders: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(err.toBody()), { status: err.status, headers: { 'content-type': scimContentType, 'cache-control': 'no-store', ...extraHeaders } });
}
