/**
 * Stable error codes. Every API error is an RFC 9457 problem+json body whose
 * `code` is one of these; clients switch on the code, never on the text.
 */
export const errorCodes = {
  // request shape
  invalid_json: 400,
  invalid_request: 400,
  unknown_field: 400,
  body_too_large: 413,
  unsupported_media_type: 415,
  // authentication and authorization
  unauthenticated: 401,
  invalid_token: 401,
  forbidden: 403,
  // resources
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  already_exists: 409,
  read_only_synced_object: 409,
  idempotency_key_reused: 422,
  precondition_failed: 412,
  // agents and sync
  registration_token_invalid: 401,
  stale_epoch: 409,
  lease_held: 409,
  lease_required: 409,
  directory_sync_disabled: 409,
  password_hash_sync_disabled: 409,
  // tenant administration
  domain_not_verified: 409,
  domain_taken: 409,
  domain_in_use: 409,
  dns_lookup_failed: 502,
  usage_location_required: 409,
  no_seats: 409,
  last_global_administrator: 409,
  // limits
  quota_exceeded: 422,
  rate_limited: 429,
  // the cloud itself
  cloud_running: 409,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof errorCodes;

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  instance?: string;
  /** Field-level details, one per invalid field: JSON pointer and message. */
  errors?: { pointer: string; message: string }[];
  [extension: string]: unknown;
}

export const problemType = (code: ErrorCode): string => `https://skybridge.dev/problems/${code.replace(/_/g, '-')}`;

/** Per-object error categories in sync batch results (brief §8). */
export const syncErrorCategories = [
  'duplicate_attribute',
  'data_validation',
  'large_object',
  'quota',
  'other',
] as const;
export type SyncErrorCategory = (typeof syncErrorCategories)[number];
